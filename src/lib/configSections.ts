import { validateHealth } from './health/thresholds.js';
import { validateQueues, validateWorkers } from './queues/config.js';
import { validateLocks, validateTtlRules } from './ttl/rules.js';

/**
 * The config file's sections beyond profiles, each with its validator (which
 * returns the section's typed value). A capability with settings adds one
 * line here; RedisOpsConfig.sections is typed from this map.
 */
export const SECTIONS = {
  queues: validateQueues,
  workers: validateWorkers,
  ttlRules: validateTtlRules,
  locks: validateLocks,
  health: validateHealth,
};

export type ConfigSections = { [K in keyof typeof SECTIONS]?: ReturnType<(typeof SECTIONS)[K]> };
