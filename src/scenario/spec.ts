/**
 * What a scenario file may hold: every key, its type, bounds and one line of documentation.
 * Cross-key rules (load.max >= load.start, thinking before reasoning_effort, ...) live in normalise.ts.
 */
import type { Field, ObjectField } from './fields.js';

/** Environment variable names: keys are only ever read from the environment. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** DeepSeek's user_id rule: letters, digits, `_` and `-`, at most 512 bytes. */
export const USER_ID_PATTERN = '^[a-zA-Z0-9_-]+$';
/** A planned request rate: `300/s`, `1200/min`, `90000/h` (parsed by scenario/need.ts). */
export const NEED_RATE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*/\\s*(s|sec|second|m|min|minute|h|hour)\\s*$';
/** Scenario names become report folder names. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

const envName: Field = {
  kind: 'string',
  pattern: ENV_NAME_PATTERN,
  patternText: 'letters, digits and _ (an environment variable name)',
  doc: 'Name of an environment variable that holds an API key (never the key itself).',
  example: 'DEEPSEEK_API_KEY',
};

const price: ObjectField = {
  kind: 'object',
  doc: 'USD per million tokens.',
  props: {
    input_cache_hit: { kind: 'number', min: 0, doc: 'Input tokens served from the prefix cache, USD per million.' },
    input_cache_miss: { kind: 'number', min: 0, doc: 'Input tokens not in the cache, USD per million.' },
    output: { kind: 'number', min: 0, doc: 'Output tokens (reasoning included), USD per million.' },
  },
};

const model: ObjectField = {
  kind: 'object',
  nullable: true,
  doc: 'One model in the mix. `deepseek-v4-flash: {}` or `deepseek-v4-flash: { weight: 4 }`.',
  props: {
    weight: {
      kind: 'number',
      exclusiveMin: 0,
      doc: 'Share of the total in-flight level in ramp mode (weights are normalised). Default 1.',
      example: '4',
    },
    inflight: {
      kind: 'number',
      integer: true,
      min: 1,
      doc: 'Fixed in-flight target for this model at every ramp step, or its first level in search mode.',
    },
    max: { kind: 'number', integer: true, min: 1, doc: 'Highest in-flight level tried for this model. Default load.max.' },
    need: {
      kind: 'oneOf',
      doc: 'What this model must carry at launch: requests in flight (`need: 1800`), or a planned traffic (`need: { rate: 300/s }`) turned into in flight by Little\'s law. The report weighs the cap against it (headroom and a verdict).',
      variants: [
        { kind: 'number', integer: true, min: 1, doc: 'Requests in flight needed at once.', example: '1800' },
        {
          kind: 'object',
          doc: 'A planned traffic; the in flight it needs is rate × the mean latency measured at that load.',
          required: ['rate'],
          props: {
            rate: {
              kind: 'oneOf',
              doc: 'Planned requests per second (`300`), or per unit: `300/s`, `1200/min`, `90000/h`.',
              variants: [
                { kind: 'number', exclusiveMin: 0, doc: 'Requests per second.', example: '300' },
                { kind: 'string', pattern: NEED_RATE_PATTERN, patternText: 'a rate such as 300/s, 1200/min or 90000/h', doc: 'Requests per second, minute or hour.', example: '300/s' },
              ],
            },
          },
        },
      ],
    },
  },
};

const userId: Field = {
  kind: 'oneOf',
  doc: 'user_id strategy: `none`, `{ strategy: fixed, value: abc }`, or `{ strategy: rotating, count: 8, prefix: user- }`.',
  variants: [
    { kind: 'string', enum: ['none'], doc: 'No user_id is sent.' },
    {
      kind: 'object',
      doc: 'A user_id strategy.',
      required: ['strategy'],
      props: {
        strategy: { kind: 'string', enum: ['none', 'fixed', 'rotating'], doc: 'none | fixed | rotating.' },
        value: {
          kind: 'string',
          pattern: USER_ID_PATTERN,
          patternText: 'letters, digits, _ and -',
          doc: 'The user_id sent with every request (strategy fixed).',
        },
        count: { kind: 'number', integer: true, min: 1, doc: 'How many ids rotate (strategy rotating).' },
        prefix: {
          kind: 'string',
          pattern: '^[a-zA-Z0-9_-]*$',
          patternText: 'letters, digits, _ and -',
          doc: 'Prefix of rotating ids; the id is prefix + index. Default `dsprobe-`.',
        },
      },
    },
  ],
};

const threshold: Field = {
  kind: 'oneOf',
  doc: 'A threshold expression, e.g. `cap(deepseek-v4-flash) >= 2000`, or `{ expr: ..., abort_on_fail: true }`.',
  variants: [
    { kind: 'string', doc: 'A threshold expression (see docs/thresholds.md).', example: 'cap(deepseek-v4-flash) >= 2000' },
    {
      kind: 'object',
      doc: 'A threshold with options.',
      required: ['expr'],
      props: {
        expr: { kind: 'string', doc: 'The threshold expression (see docs/thresholds.md).' },
        abort_on_fail: { kind: 'boolean', doc: 'Stop the run as soon as this threshold fails. Default false.' },
      },
    },
  ],
};

/** `120/s`, `7200/m`, or a number (arrivals per second). */
const arrivalRate: Field = {
  kind: 'oneOf',
  doc: 'Arrivals per second: `120/s`, `7200/m`, `0.5/s`, or a number (per second).',
  variants: [
    { kind: 'number', exclusiveMin: 0, doc: 'Arrivals per second.' },
    {
      kind: 'string',
      pattern: '^\\s*\\d+(\\.\\d+)?\\s*/\\s*(s|m|h)\\s*$',
      patternText: 'a rate such as 120/s or 7200/m',
      doc: 'Arrivals per second (`/s`), minute (`/m`) or hour (`/h`).',
      example: '120/s',
    },
  ],
};

/** The client being rehearsed in rate mode (docs/policies.md). */
const clientPolicy: ObjectField = {
  kind: 'object',
  nullable: true,
  doc: 'A client policy: a bounded pool with a queue, retries with backoff, a circuit breaker. `{}` sends raw.',
  props: {
    pool: { kind: 'number', integer: true, min: 1, doc: 'At most this many requests in flight; later ones wait in the client\'s queue.' },
    queue_timeout: { kind: 'duration', doc: 'A request that waited this long in the client\'s queue is shed. Default: waits until the run drains.', example: '30s' },
    retry: {
      kind: 'object',
      doc: 'Retry some answers with exponential backoff.',
      props: {
        on: { kind: 'array', minItems: 1, items: { kind: 'number', integer: true, min: 100, max: 599, doc: 'An HTTP status.' }, doc: 'Statuses retried. Default [429, 503].' },
        max_attempts: { kind: 'number', integer: true, min: 1, max: 100, doc: 'Attempts in all, the first included. Default 3.' },
        backoff: {
          kind: 'object',
          doc: 'Wait before attempt n+1: min(max, base × factor^(n-1)), then jitter.',
          props: {
            base: { kind: 'duration', doc: 'First wait. Default 1s.' },
            factor: { kind: 'number', min: 1, max: 16, doc: 'Growth per attempt. Default 2.' },
            max: { kind: 'duration', doc: 'Longest wait. Default 60s.' },
            jitter: { kind: 'string', enum: ['full', 'equal', 'none'], doc: 'full: uniform in [0, wait]; equal: wait/2 + uniform in [0, wait/2]; none. Default full.' },
          },
        },
        honor_retry_after: { kind: 'boolean', doc: 'Wait at least the server\'s Retry-After when it sends one. Default true.' },
      },
    },
    breaker: {
      kind: 'object',
      doc: 'A circuit breaker over a rolling window of attempts.',
      props: {
        window: { kind: 'duration', doc: 'Rolling window of attempts judged. Default 60s.' },
        open_when: { kind: 'rate', doc: 'Opens when this share of the window\'s attempts drew 429 or 5xx. Default 30%.' },
        min_attempts: { kind: 'number', integer: true, min: 1, doc: 'Attempts the window needs before it may open. Default 20.' },
        cool_off: { kind: 'duration', doc: 'How long it stays open before probing. Default 60s.' },
        canaries: { kind: 'number', integer: true, min: 1, doc: 'Requests let through after the cool-off; all must succeed to close. Default 2.' },
      },
    },
  },
};

/** The whole scenario file. */
export const scenarioSpec: ObjectField = {
  kind: 'object',
  doc: 'A dsprobe scenario: what to probe, with which requests, and how to raise the load.',
  required: ['target', 'models'],
  props: {
    name: {
      kind: 'string',
      pattern: NAME_PATTERN,
      patternText: 'letters, digits, ., _ and - (it names the report folder)',
      doc: 'Scenario name, used in report folder names. Default: the file name.',
      example: 'flash-vs-pro-headroom',
    },
    target: {
      kind: 'object',
      doc: 'Where requests go.',
      required: ['url'],
      props: {
        url: {
          kind: 'string',
          doc: '`mock` (the built-in DeepSeek mock, started for the run) or an http(s) base URL such as https://api.deepseek.com. `${VAR}` is read from the environment.',
          example: 'https://api.deepseek.com',
        },
        protocol: { kind: 'string', enum: ['openai', 'anthropic'], doc: 'API dialect. Default openai.' },
        api_key_env: {
          kind: 'oneOf',
          doc: 'Environment variable name(s) holding API keys; several keys rotate per request. Default DEEPSEEK_API_KEY.',
          variants: [envName, { kind: 'array', items: envName, minItems: 1, doc: 'Several keys, used in turn.' }],
        },
        headers: {
          kind: 'object',
          doc: 'Extra request headers. Values may be `${VAR}` references; they are never printed.',
          keyPattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
          keyPatternText: 'a valid HTTP header name',
          values: { kind: 'string', secret: true, doc: 'Header value.' },
        },
      },
    },
    models: {
      kind: 'object',
      doc: 'The models in the mix, each with a weight and optional in-flight targets.',
      minKeys: 1,
      keyPattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$',
      keyPatternText: 'a model id such as deepseek-v4-flash',
      values: model,
    },
    request: {
      kind: 'object',
      doc: 'What each request looks like.',
      props: {
        prompt_tokens: {
          kind: 'number',
          integer: true,
          min: 1,
          max: 1_000_000,
          doc: 'Approximate size of the seeded synthetic prompt, tokens (system prefix included). Default 256.',
        },
        max_tokens: {
          kind: 'number',
          integer: true,
          min: 1,
          max: 384_000,
          doc: 'max_tokens sent with each request (reasoning included). Default 64.',
        },
        stream: { kind: 'boolean', doc: 'Stream responses (SSE). Default true.' },
        system_prefix_tokens: {
          kind: 'number',
          integer: true,
          min: 0,
          doc: 'Tokens of a system-prompt prefix shared by every request, to exercise the prefix cache. Default 0.',
        },
        thinking: { kind: 'boolean', doc: 'Thinking mode (`thinking: {type: enabled}`). Default false.' },
        reasoning_effort: { kind: 'string', enum: ['high', 'max'], doc: 'Reasoning effort in thinking mode.' },
        user_id: userId,
        timeout: {
          kind: 'duration',
          doc: 'Absolute per-request deadline from send; keep-alives never extend it. Default 10m.',
          example: '2m',
        },
        temperature: { kind: 'number', min: 0, max: 2, doc: 'Sampling temperature (omitted when unset).' },
        max_body: {
          kind: 'number',
          integer: true,
          min: 1024,
          max: 1024 * 1024 * 1024,
          doc: 'Largest response body read, bytes; a longer one ends as protocol/body_too_large (an SSE line or event: line_too_long / event_too_large, at most 4 MiB). Default 16 MiB.',
          example: '33554432',
        },
      },
    },
    load: {
      kind: 'object',
      doc: 'How in-flight load is raised.',
      props: {
        mode: {
          kind: 'string',
          enum: ['search', 'ramp', 'rate'],
          doc: 'search: find each model\'s cap; ramp: fixed steps; rate: open-loop arrivals (see docs/policies.md). Default search (ramp when stages are given).',
        },
        start: {
          kind: 'number',
          integer: true,
          min: 1,
          doc: 'First in-flight level: per model in search mode, total in ramp mode. Default 10.',
        },
        max: { kind: 'number', integer: true, min: 1, doc: 'Highest in-flight level tried. Default 3000.' },
        hold: { kind: 'duration', doc: 'How long a level is held at most. Default 10s.', example: '10s' },
        step: {
          kind: 'number',
          integer: true,
          min: 1,
          doc: 'Ramp mode: added to the total level each step. Default: load.start.',
        },
        stages: {
          kind: 'array',
          minItems: 1,
          doc: 'Ramp mode: explicit stages instead of start/step/max.',
          items: {
            kind: 'object',
            doc: 'One ramp stage (`inflight`), or one rate stage (`rate`, mode rate).',
            props: {
              inflight: { kind: 'number', integer: true, min: 1, doc: 'Total in-flight level of this stage (mode ramp).' },
              rate: arrivalRate,
              hold: { kind: 'duration', doc: 'How long to hold it. Default load.hold.' },
            },
          },
        },
        precision: {
          kind: 'number',
          integer: true,
          min: 1,
          doc: 'Search: stop narrowing when high - low <= precision (requests). Default 1.',
        },
        growth: {
          kind: 'number',
          exclusiveMin: 1,
          max: 16,
          doc: 'Search: geometric growth factor while no 429 was seen. Default 2.',
        },
        recheck: { kind: 'boolean', doc: 'Search: re-check the boundary to tell a cliff from noise. Default true.' },
        on_429: {
          kind: 'object',
          doc: 'Every mode: a slot that drew a 429 waits before it is refilled, exponential with full jitter, reset when the slot is admitted; Retry-After is honoured. `{ backoff: false }` refills at once (a deliberate storm test).',
          props: {
            backoff: { kind: 'boolean', doc: 'Back off after a 429. Default true.' },
            base: { kind: 'duration', doc: 'Ceiling of the first delay (the delay is uniform between 0 and the ceiling). Default 1s.', example: '1s' },
            factor: { kind: 'number', min: 1, max: 16, doc: 'The ceiling grows by this factor with every 429 in a row. Default 2.' },
            cap: { kind: 'duration', doc: 'Largest ceiling, and the longest Retry-After honoured. Default 30s.', example: '30s' },
          },
        },
        drain: {
          kind: 'duration',
          doc: 'Every mode: at the end (when a search ends; after the last arrival in rate mode), how long open requests may take to complete before they are cut. Default 30s.',
          example: '30s',
        },
        arrival: { kind: 'string', enum: ['poisson', 'constant'], doc: 'Rate mode: how arrivals are spaced. Default poisson.' },
        rate: arrivalRate,
        duration: { kind: 'duration', doc: 'Rate mode: how long arrivals come at `rate` (with stages: their holds add up).', example: '60s' },
        max_inflight: {
          kind: 'number',
          integer: true,
          min: 1,
          doc: 'Rate mode: a guard; an attempt that would put more requests on the wire is dropped and counted. Default 10000.',
        },
      },
    },
    policy: clientPolicy,
    policies: {
      kind: 'object',
      doc: 'Rate mode: named client policies run in turn on the same seeded arrivals and compared (`none: {}` sends raw).',
      minKeys: 1,
      keyPattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      keyPatternText: 'letters, digits, ., _ and -',
      values: clientPolicy,
    },
    stop: {
      kind: 'object',
      doc: 'When to stop raising load.',
      props: {
        max_429_rate: {
          kind: 'rate',
          doc: 'Ramp: stop raising the load after a step with a larger 429 share. Search: a level counts as over the cap only when its 429 share (429s / requests sent in the level) is larger (default 0: the first 429). Default 0.05 in ramp mode.',
        },
        max_error_rate: {
          kind: 'rate',
          doc: 'Ramp: stop after a step with a larger share of other errors. Search: that model\'s search ends `unclear` with the reason.',
        },
      },
    },
    expect: { kind: 'array', items: threshold, doc: 'Thresholds checked after the run (and before it, for syntax).' },
    budget: {
      kind: 'object',
      doc: 'Spending limits enforced live from the usage the server reports; exceeding one stops the run (exit 3).',
      props: {
        max_usd: { kind: 'number', exclusiveMin: 0, doc: 'Stop when the run has cost this many US dollars.' },
        max_tokens: { kind: 'number', integer: true, min: 1, doc: 'Stop when the run has used this many tokens.' },
      },
    },
    pricing: {
      kind: 'object',
      doc: 'Price overrides per model, USD per million tokens (defaults: DeepSeek\'s published prices).',
      values: price,
    },
    engine: {
      kind: 'object',
      doc: 'How dsprobe itself runs the load.',
      props: {
        workers: {
          kind: 'oneOf',
          doc: 'Threads that send and read requests: `auto` (available cores minus one, at least 1) or a count. One runs on the main thread. `--workers` overrides it. Default auto.',
          variants: [
            { kind: 'string', enum: ['auto'], doc: 'Available cores minus one, at least 1.' },
            { kind: 'number', integer: true, min: 1, max: 256, doc: 'This many worker threads (1: requests run on the main thread).' },
          ],
        },
      },
    },
    safety_margin: {
      kind: 'number',
      min: 0,
      exclusiveMax: 1,
      doc: 'Against real targets, the search stops at documented cap × (1 - safety_margin).',
    },
    probe: {
      kind: 'oneOf',
      doc: 'Request shape of the cap search: `full` (the scenario\'s request, default) or `cheap` (a few-token prompt, cut as soon as each level is decided; see docs/watch.md).',
      variants: [
        { kind: 'string', enum: ['full', 'cheap'], doc: 'full | cheap.' },
        {
          kind: 'object',
          doc: 'Cheap probes with options.',
          required: ['mode'],
          props: {
            mode: { kind: 'string', enum: ['full', 'cheap'], doc: 'full | cheap.' },
            max_tokens: {
              kind: 'number',
              integer: true,
              min: 1,
              max: 384000,
              doc: 'Cheap: max_tokens sent, only a ceiling that keeps a request open until its level is decided (requests are cut then). Default: load.hold / 10 ms, 16..8192.',
            },
            settle: {
              kind: 'duration',
              doc: 'Cheap: pause after cutting a decided level, so the server has released the cut requests before the next level is counted. Default 300ms.',
            },
            system_prefix_tokens: {
              kind: 'number',
              integer: true,
              min: 0,
              max: 1000000,
              doc: 'Cheap: a system prefix shared by every probe, billed at the prefix-cache price after the first. Default 0.',
            },
          },
        },
      ],
    },
    measure_at: {
      kind: 'array',
      minItems: 1,
      items: { kind: 'rate', doc: 'A fraction of the found cap (`80%` or 0.8).' },
      doc: 'Search: after the cap is found, hold these fractions of it (e.g. `[50%, 80%, 95%]`) with the scenario\'s real request shape for load.hold each.',
    },
    mock: {
      kind: 'object',
      open: true,
      delegate: true,
      doc: 'Options for the built-in mock (only when target.url is `mock`): caps, time_scale, latency, seed, ... (see docs/mock.md).',
      props: {
        caps: {
          kind: 'object',
          doc: 'Concurrency cap per model, requests in flight.',
          values: { kind: 'number', integer: true, min: 0, doc: 'Cap, requests in flight.' },
        },
        time_scale: { kind: 'number', exclusiveMin: 0, doc: 'Multiplies every mock timer (0.01 = 100x faster).' },
        seed: { kind: 'number', integer: true, min: 0, doc: 'Seed of the mock latency model.' },
      },
    },
    seed: { kind: 'number', integer: true, min: 0, doc: 'Seed of every random choice (prompts, ids). Default 1.' },
  },
};
