/** Shared benchmark harness utilities (see bench/README.md). */
export { mean, median, percentile, percentiles, perSecond, timeIt } from './stats.ts';
export type { Percentiles, Timed } from './stats.ts';
export {
  BenchTimeoutError,
  benchRuns,
  DEFAULT_RUNS,
  envInt,
  envIntList,
  repeat,
  sleep,
  withTimeout,
} from './runner.ts';
export type { Repeated, RepeatOptions } from './runner.ts';
export { startRssSampler, withPeakRss } from './rss.ts';
export type { RssSampler } from './rss.ts';
export {
  benchPgUrl,
  createFreshDatabase,
  DEFAULT_PG_URL,
  pgServerVersion,
  withDatabase,
  withFreshDatabase,
} from './pg.ts';
export type { FreshDatabase } from './pg.ts';
export {
  describeMachine,
  formatMachineLine,
  formatVersionsLine,
  packageVersion,
  REPO_ROOT,
} from './machine.ts';
export type { DescribeOptions, MachineInfo } from './machine.ts';
export { formatBytes, formatMs, formatNumber, formatRatio, formatTable, markdownTable } from './table.ts';
export type { Align, Column } from './table.ts';
export { endMarker, renderSection, replaceSection, reportFile, startMarker, writeSection } from './report.ts';
export type { SectionContent } from './report.ts';
export {
  closedLoopLatency,
  FinishCounter,
  FLOW_SHAPES,
  FLOW_STEPS,
  flowDrainResult,
  LAST_STEP,
  serialStartLatency,
  Waiters,
} from './workflows.ts';
export type { ClosedLoopOptions, FlowDrainResult, FlowShape } from './workflows.ts';
