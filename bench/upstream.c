/*
 * bench/upstream.c: a cheap streaming upstream for `npm run bench` (built by the bench with cc -O2).
 *
 *   upstream PORT TOKENS GAP_MS FIRST_MS [SPREAD_PERCENT]
 *
 * One thread, epoll, HTTP/1.1 keep-alive, no pipelining. Every POST is answered at once with status 200 and an
 * OpenAI-style SSE stream in chunked encoding: TOKENS content events, the first FIRST_MS after the request
 * arrived and then one every GAP_MS, then a final event with finish_reason and usage, then `data: [DONE]`
 * (TOKENS + 2 `data:` events a request). With SPREAD_PERCENT, each answer's TOKENS is drawn instead, seeded and
 * uniformly, from TOKENS ± that share (the mean stays TOKENS): streams of one length end together once they have
 * started together, as no real server's do. Any other method gets 404. A Node server costs about as much CPU as the
 * client it serves; this one costs a fraction, so the client's own limits show. Each time it reads a line on stdin
 * it prints, on one line of stdout, its own CPU time (user+system, µs) and how late it wrote first events since the
 * last such line: p50 and p99, µs past the request's arrival + FIRST_MS (a busy upstream is late itself, and no
 * client can read an event before it is written). It exits when stdin closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WHEEL 65536 /* ms slots */
#define INBUF 16384

typedef struct conn {
  int fd;
  int streaming;
  int sent;         /* content events sent in the current response */
  int tokens;       /* content events of the current response */
  long long due_ms; /* next event time */
  long long id;     /* the completion id of the current response: one per stream, as a real API sends */
  long long arrived_us; /* when the current request was read */
  char in[INBUF];
  int inlen;
  char *out;
  int outlen, outcap;
  struct conn *next; /* wheel list */
  int in_wheel;
} conn;

static int tokens, gap_ms, first_ms, spread_pct;
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

/* This answer's content events: TOKENS, or drawn from TOKENS ± SPREAD_PERCENT (xorshift64*, fixed seed). */
static int draw_tokens(void) {
  if (spread_pct <= 0) return tokens;
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  double u = (double)((rng * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0; /* [0, 1) */
  int span = tokens * spread_pct / 100;
  int t = tokens - span + (int)(u * (2 * span + 1));
  return t < 1 ? 1 : t;
}
static conn *wheel[WHEEL];
static long long seq_id;
/* First-event lateness since the last stats line: 100 µs buckets up to 1 s (the last bucket holds the rest). */
#define LATE_BUCKETS 10001
static long long late[LATE_BUCKETS], late_n;

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void record_late(long long us) {
  long long b = us < 0 ? 0 : us / 100;
  late[b < LATE_BUCKETS ? b : LATE_BUCKETS - 1]++;
  late_n++;
}

static long long late_at(double pct) {
  long long want = (long long)(late_n * pct / 100.0 + 0.999999), seen = 0;
  for (int b = 0; b < LATE_BUCKETS; b++)
    if ((seen += late[b]) >= want && want > 0) return (long long)b * 100 + 100;
  return 0;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void schedule(conn *c, long long at) {
  c->due_ms = at;
  int slot = (int)(at % WHEEL);
  c->next = wheel[slot];
  wheel[slot] = c;
  c->in_wheel = 1;
}

static void unschedule(conn *c) {
  if (!c->in_wheel) return;
  int slot = (int)(c->due_ms % WHEEL);
  for (conn **p = &wheel[slot]; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  c->in_wheel = 0;
}

static void out_add(conn *c, const char *s, int n) {
  if (c->outlen + n > c->outcap) {
    c->outcap = (c->outlen + n) * 2 + 256;
    c->out = realloc(c->out, c->outcap);
  }
  memcpy(c->out + c->outlen, s, n);
  c->outlen += n;
}

static void close_conn(int ep, conn *c) {
  unschedule(c);
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->out);
  free(c);
}

/* Writes what is buffered; returns -1 when the peer is gone. Leftovers wait for EPOLLOUT. */
static int flush(int ep, conn *c) {
  int off = 0;
  while (off < c->outlen) {
    ssize_t w = write(c->fd, c->out + off, c->outlen - off);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    off += (int)w;
  }
  memmove(c->out, c->out + off, c->outlen - off);
  c->outlen -= off;
  struct epoll_event ev = {.events = EPOLLIN | (c->outlen ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

static void chunk(conn *c, const char *payload) {
  char head[32];
  int n = (int)strlen(payload);
  int h = snprintf(head, sizeof head, "%x\r\n", n);
  out_add(c, head, h);
  out_add(c, payload, n);
  out_add(c, "\r\n", 2);
}

/* The next event of c's stream; schedules the one after. */
static void emit(conn *c, long long now) {
  char buf[512];
  if (c->sent == 0) record_late(now_us() - c->arrived_us - (long long)first_ms * 1000);
  if (c->sent < c->tokens) {
    snprintf(buf, sizeof buf,
             "data: {\"id\":\"b%lld\",\"object\":\"chat.completion.chunk\",\"model\":\"deepseek-v4-flash\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok \"},\"finish_reason\":null}]}\n\n",
             c->id);
    chunk(c, buf);
    c->sent++;
    schedule(c, now + gap_ms);
    return;
  }
  snprintf(buf, sizeof buf,
           "data: {\"id\":\"b%lld\",\"object\":\"chat.completion.chunk\",\"model\":\"deepseek-v4-flash\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n",
           c->id, c->tokens, c->tokens + 8);
  chunk(c, buf);
  out_add(c, "0\r\n\r\n", 5);
  c->streaming = 0;
}

/* Parses whole requests out of c->in (headers + content-length body). */
static void on_input(conn *c, long long now) {
  for (;;) {
    if (c->streaming) return; /* no pipelining: the next request waits for this answer */
    char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
    if (!end) return;
    int head = (int)(end - c->in) + 4;
    int clen = 0;
    char *cl = strcasestr(c->in, "content-length:");
    if (cl && cl < end) clen = atoi(cl + 15);
    if (c->inlen < head + clen) return;
    int is_post = strncmp(c->in, "POST ", 5) == 0;
    memmove(c->in, c->in + head + clen, c->inlen - head - clen);
    c->inlen -= head + clen;
    if (!is_post) {
      const char *r = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
      out_add(c, r, (int)strlen(r));
      continue;
    }
    const char *r = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    out_add(c, r, (int)strlen(r));
    c->id = ++seq_id;
    c->arrived_us = now_us();
    c->streaming = 1;
    c->sent = 0;
    c->tokens = draw_tokens();
    schedule(c, now + first_ms);
  }
}

static void report_cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  long long us = (long long)u.ru_utime.tv_sec * 1000000 + u.ru_utime.tv_usec + (long long)u.ru_stime.tv_sec * 1000000 + u.ru_stime.tv_usec;
  printf("%lld %lld %lld\n", us, late_at(50), late_at(99));
  fflush(stdout);
  memset(late, 0, sizeof late);
  late_n = 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: upstream PORT TOKENS GAP_MS FIRST_MS [SPREAD_PERCENT]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  tokens = atoi(argv[2]);
  gap_ms = atoi(argv[3]);
  first_ms = atoi(argv[4]);
  spread_pct = argc > 5 ? atoi(argv[5]) : 0;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 65535)) {
    perror("listen");
    return 1;
  }
  socklen_t al = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &al);
  printf("port %d\n", ntohs(a.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  fcntl(0, F_SETFL, O_NONBLOCK);
  struct epoll_event sev = {.events = EPOLLIN, .data.ptr = (void *)1};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
  struct epoll_event evs[1024];
  long long tick = now_ms();
  for (;;) {
    int n = epoll_wait(ep, evs, 1024, 1);
    long long now = now_ms();
    for (int i = 0; i < n; i++) {
      void *p = evs[i].data.ptr;
      if (p == NULL) {
        for (;;) {
          int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *c = calloc(1, sizeof(conn));
          c->fd = fd;
          struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
        }
        continue;
      }
      if (p == (void *)1) {
        char b[256];
        ssize_t r = read(0, b, sizeof b);
        if (r == 0) return 0;
        if (r > 0) report_cpu();
        continue;
      }
      conn *c = p;
      if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
        close_conn(ep, c);
        continue;
      }
      if (evs[i].events & EPOLLIN) {
        ssize_t r = read(c->fd, c->in + c->inlen, INBUF - c->inlen);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
          close_conn(ep, c);
          continue;
        }
        if (r > 0) c->inlen += (int)r;
        on_input(c, now);
      }
      if (flush(ep, c) < 0) close_conn(ep, c);
    }
    /* Every due slot up to now, in order. */
    for (; tick <= now; tick++) {
      int slot = (int)(tick % WHEEL);
      conn *list = wheel[slot], *keep = NULL;
      wheel[slot] = NULL;
      while (list) {
        conn *c = list;
        list = c->next;
        if (c->due_ms > tick) { /* a later lap */
          c->next = keep;
          keep = c;
          continue;
        }
        c->in_wheel = 0;
        emit(c, now);
        on_input(c, now); /* a request that arrived while streaming */
        if (flush(ep, c) < 0) close_conn(ep, c);
      }
      wheel[slot] = keep;
    }
  }
}
