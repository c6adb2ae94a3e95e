/**
 * Request bodies built once per shape and reused: of a chat request, only the prompt (unique per request) and the
 * user_id (per-request or per-user strategies) change from one request to the next. The rest of the JSON is
 * stringified once per shape, with markers where those two go, and each request's body is the template's parts
 * joined around the JSON-encoded prompt and user_id: byte for byte what JSON.stringify of the whole body gives
 * (a test compares both).
 */
import type { ChatParams } from './dialect.js';

/** Stand-ins for the prompt and the user_id while a template is built (never in a real prompt: NUL characters). */
const PROMPT_MARK = '\u0000dsprobe:prompt\u0000';
const USER_MARK = '\u0000dsprobe:user\u0000';
const PROMPT_JSON = JSON.stringify(PROMPT_MARK);
const USER_JSON = JSON.stringify(USER_MARK);

/** Shapes kept at once (models × shapes: full, cheap, calibrate); the oldest is dropped beyond this. */
const MAX_SHAPES = 16;

interface Template {
  p: ChatParams;
  /** Text before the first variable, between the two, after the last. */
  head: string;
  mid: string;
  tail: string;
  /** The user_id comes before the prompt in this dialect's JSON. */
  userFirst: boolean;
}

/** True when `a` and `b` give the same body apart from the prompt and the user_id's value. */
function sameShape(a: ChatParams, b: ChatParams): boolean {
  return (
    a.model === b.model &&
    a.system === b.system &&
    a.max_tokens === b.max_tokens &&
    a.stream === b.stream &&
    a.thinking === b.thinking &&
    a.reasoning_effort === b.reasoning_effort &&
    a.temperature === b.temperature &&
    (a.user_id === undefined) === (b.user_id === undefined)
  );
}

/** Builds the template of `p`'s shape, or null when the markers are not found once each (then: no template). */
function template(build: (p: ChatParams) => string, p: ChatParams): Template | null {
  const hasUser = p.user_id !== undefined;
  const shape: ChatParams = { ...p, prompt: PROMPT_MARK, ...(hasUser ? { user_id: USER_MARK } : {}) };
  const s = build(shape);
  const at = s.indexOf(PROMPT_JSON);
  if (at === -1 || s.indexOf(PROMPT_JSON, at + 1) !== -1) return null;
  if (!hasUser) return { p: shape, head: s.slice(0, at), mid: s.slice(at + PROMPT_JSON.length), tail: '', userFirst: false };
  const u = s.indexOf(USER_JSON);
  if (u === -1 || s.indexOf(USER_JSON, u + 1) !== -1) return null;
  const [first, firstLen, second, secondLen] = u < at ? [u, USER_JSON.length, at, PROMPT_JSON.length] : [at, PROMPT_JSON.length, u, USER_JSON.length];
  return { p: shape, head: s.slice(0, first), mid: s.slice(first + firstLen, second), tail: s.slice(second + secondLen), userFirst: u < at };
}

/** Wraps a dialect's body builder (JSON.stringify of the whole body) into one that reuses a template per shape. */
export function templatedBody(build: (p: ChatParams) => string): (p: ChatParams) => string {
  const templates: Template[] = [];
  return (p) => {
    let t: Template | null | undefined;
    for (let i = 0; i < templates.length; i++) {
      if (sameShape((templates[i] as Template).p, p)) {
        t = templates[i];
        break;
      }
    }
    if (!t) {
      t = template(build, p);
      if (!t) return build(p);
      if (templates.length >= MAX_SHAPES) templates.shift();
      templates.push(t);
    }
    const prompt = JSON.stringify(p.prompt);
    if (p.user_id === undefined) return t.head + prompt + t.mid;
    const user = JSON.stringify(p.user_id);
    return t.userFirst ? t.head + user + t.mid + prompt + t.tail : t.head + prompt + t.mid + user + t.tail;
  };
}
