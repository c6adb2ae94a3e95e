/**
 * dsprobe's public API for programs that embed it.
 */
export * from './types.js';
export type * from './scenario/types.js';
export { EXIT, DsprobeError } from './errors.js';
export { monotonicClock, manualClock, type Clock } from './time/clock.js';
export { seededRandom, type Random } from './time/random.js';
export * from './measure/hist.js';
export { readScenario, parseScenario, redactScenario, scenarioJsonSchema, parseDuration, expandHeaders } from './scenario/index.js';
export { rampSteps } from './plan/ramp.js';
export { applyNeed, parseNeedText } from './scenario/need.js';
export { computeHeadroom, TIGHT_BELOW } from './measure/headroom.js';
export { parseThreshold, evaluateThresholds, checkThresholdsEarly, type ThresholdAst } from './measure/thresholds.js';
export { DEFAULT_PRICING, costOf } from './cost/index.js';
export { estimatePlan, type PlanEstimate } from './plan/estimate.js';
export { renderPlanText } from './plan/plan-text.js';
export { renderJUnit } from './report/junit.js';
export { renderMarkdownSummary } from './report/markdown.js';
export { renderJsonSummary } from './report/summary-json.js';
export { createProber, getJson, type Prober, type ProberOptions, type ProbeRequest, type ProbeHooks, type JsonResult } from './transport/prober.js';
export { makePromptFactory } from './protocol/prompt.js';
export { SseParser, parseSseChunks, type SseHandler, type SseItem } from './protocol/sse.js';
export {
  startMock,
  parseMockConfig,
  type MockHandle,
  type StartMockOptions,
  type MockConfig,
  type MockConfigInput,
  type MockState,
  type MockEvent,
  type MockEventType,
} from './mock/index.js';
