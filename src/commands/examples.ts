import type { Command } from 'commander';

/**
 * Two or three examples per command, for the three people who run it: at a
 * terminal, from cron, in CI. Shown at the end of each command's --help.
 */
const EXAMPLES: Record<string, [string, string][]> = {
  'keys scan': [['terminal', "redis-ops keys scan 'lock:*' --no-ttl"], ['cron', "redis-ops keys scan 'session:*' --no-ttl --json > immortal-sessions.ndjson"], ['CI', "test -z \"$(redis-ops keys scan 'cache:*' --no-ttl --limit 1)\""]],
  'keys stats': [['terminal', 'redis-ops keys stats'], ['cron', 'redis-ops keys stats --json > stats-$(date +%F).json'], ['CI', "redis-ops keys stats 'cache:*' --json | jq -e '.ttl.none < 1000'"]],
  'keys inspect': [['terminal', 'redis-ops keys inspect tts_queue'], ['cron / CI', 'redis-ops keys inspect tts_queue --json | jq .length']],
  'keys delete': [['terminal', "redis-ops keys delete 'tts_status_cache:*'"], ['cron', "redis-ops keys delete 'cache:tmp:*' --yes --limit 50000 --rate 2000 --max-duration 5m --log deletes.ndjson --json"], ['CI', "redis-ops keys delete 'staging:*' --dry-run && redis-ops keys delete 'staging:*' --yes"]],
  health: [['terminal', 'redis-ops health'], ['cron', 'redis-ops health -q --prom-file /var/lib/node_exporter/textfile/redis.prom --format nagios > /dev/null'], ['CI / Nagios', 'redis-ops health --host $HOSTADDRESS$ --format nagios --timeout 8s']],
  memory: [['terminal', 'redis-ops memory'], ['cron', 'redis-ops memory --no-scan --json > mem-$(date +%H%M).json'], ['CI', "redis-ops memory --json | jq -e '.nodes[].fragmentationRatio < 1.5'"]],
  slowlog: [['terminal', 'redis-ops slowlog --show 20'], ['cron', 'redis-ops slowlog --state slowlog.state --json >> slow.ndjson'], ['CI', 'redis-ops slowlog --since 1h --group --json']],
  'slowlog reset': [['terminal', 'redis-ops slowlog reset'], ['cron / CI', 'redis-ops slowlog reset --yes --log resets.ndjson']],
  latency: [['terminal', 'redis-ops latency'], ['cron / CI', "redis-ops latency --json | jq '.[].ping.p99Us'"]],
  backup: [['terminal', "redis-ops backup --match 'user:*' -o users.jsonl"], ['cron', 'redis-ops backup --gzip -o /backups/redis-$(date +%F).jsonl.gz --all-dbs --json'], ['CI', 'redis-ops backup -o fixture.jsonl && redis-ops backup verify fixture.jsonl']],
  'backup verify': [['terminal / cron / CI', 'redis-ops backup verify /backups/redis-$(date +%F).jsonl.gz --json']],
  'backup diff': [['terminal', 'redis-ops backup diff users.jsonl'], ['CI', 'redis-ops backup diff fixture.jsonl --json']],
  restore: [['terminal', 'redis-ops restore undo.jsonl --replace'], ['cron', 'redis-ops restore last-night.jsonl.gz --replace --yes --log restore.ndjson --json'], ['CI', 'redis-ops restore fixture.jsonl --fail-on-existing --yes']],
  'ttl audit': [['terminal', 'redis-ops ttl audit'], ['cron', 'redis-ops ttl audit --json > ttl-$(date +%F).json'], ['CI', "redis-ops ttl audit 'cache:*' --fail-on-violation"]],
  'ttl cleanup': [['terminal', "redis-ops ttl cleanup 'job:*' --delete --age-field created_at --older-than 48h --dry-run"], ['cron', "redis-ops ttl cleanup 'job:*' --delete --age-field created_at --older-than 48h --yes --rate 5000 --max-duration 20m --backup undo-$(date +%F).jsonl.gz"], ['CI', "redis-ops ttl cleanup 'cache:*' --rules --yes"]],
  'locks list': [['terminal', 'redis-ops locks list'], ['CI', "redis-ops locks list --json | jq -e '[.locks[] | select(.stale)] | length == 0'"]],
  'locks reap': [['terminal', 'redis-ops locks reap --dry-run'], ['cron', 'redis-ops locks reap --stale-after 30m --yes --log locks.ndjson --json']],
  'queue list': [['terminal', 'redis-ops queue list'], ['cron / CI', 'redis-ops queue list --json']],
  'queue stats': [['terminal', 'redis-ops queue stats --watch 5s'], ['cron', 'redis-ops queue stats --prom-file /var/lib/node_exporter/textfile/queues.prom > /dev/null'], ['CI', "redis-ops queue stats --json | jq -e '.queues[] | select(.dead > 0) | not'"]],
  'queue peek': [['terminal', 'redis-ops queue peek tts_queue --show 5'], ['cron / CI', 'redis-ops queue peek tts_queue --json']],
  'queue enqueue': [['terminal', "redis-ops queue enqueue tts_queue '{\"request_id\":\"r1\"}'"], ['cron / CI', 'redis-ops queue enqueue tts_queue --file jobs.ndjson --yes']],
  'queue retry-drain': [['terminal', 'redis-ops queue retry-drain tts_queue --dry-run'], ['cron', 'redis-ops queue retry-drain tts_queue --max-retries 5 --yes --log drains.ndjson --json']],
  'queue dead': [['terminal', 'redis-ops queue dead tts_queue list'], ['cron', 'redis-ops queue dead tts_queue requeue --yes --limit 100 --log requeues.ndjson']],
  workers: [['terminal', 'redis-ops workers'], ['CI', 'redis-ops workers --fail-on-dead']],
  'workers list': [['terminal', 'redis-ops workers'], ['CI', 'redis-ops workers --fail-on-dead']],
  'workers reap': [['terminal', 'redis-ops workers reap --dry-run'], ['cron', 'redis-ops workers reap --requeue-orphans --stale-after 2m --yes --log reap.ndjson --json']],
  top: [['terminal', 'redis-ops top'], ['cron', 'redis-ops top --once --json --no-queues >> top.ndjson'], ['CI / monitoring', "redis-ops top --once --json --interval 5s | jq -e '.totals.opsPerSec > 0'"]],
  hotkeys: [['terminal', 'redis-ops hotkeys --duration 10s'], ['cron', 'redis-ops hotkeys --method lfu --rate 20000 --json > hot-$(date +%H%M).json'], ['CI / load test', "redis-ops hotkeys --yes --duration 5s --json | jq -e '.keys[0].share < 0.5'"]],
  copy: [['migration runbook', 'redis-ops copy --from redis://old:6379 --to rediss://new:6380 --checkpoint cut.ckpt && redis-ops diff --from redis://old:6379 --to rediss://new:6380'], ['cron (staging refresh)', "redis-ops copy --from prod-replica --to staging 'catalog:*' --replace --yes --rate 20000 --max-duration 30m --checkpoint /var/lib/redis-ops/staging.ckpt --json"], ['CI', 'redis-ops copy --from "$FIXTURES_URL" --to "$TEST_URL" --yes -q']],
  diff: [['migration runbook', 'redis-ops diff --from redis://old:6379 --to rediss://new.cache:6380 && echo "switch now"'], ['cron (staging refresh check)', "redis-ops diff --from prod-replica --to staging 'catalog:*' --json > diff.ndjson"], ['CI', 'redis-ops diff --from "$BLUE_URL" --to "$GREEN_URL" -q']],
  clients: [['terminal', 'redis-ops clients --by host'], ['cron', "redis-ops clients --json | jq -c '{at: now, conns: (.clients | length)}' >> conns.ndjson"], ['CI / monitoring', 'redis-ops clients --output-over 64mb --idle-over 1h --fail-on-offenders -q']],
  'clients kill': [['terminal', 'redis-ops clients kill --idle-over 1h --dry-run'], ['cron', 'redis-ops clients kill --name worker-pool --idle-over 6h --yes --limit 500 --log kills.ndjson --json']],
  exporter: [['terminal', 'redis-ops exporter --listen 127.0.0.1:9121 & curl -s localhost:9121/metrics | grep redis_ops_queue_waiting'], ['service (systemd)', 'redis-ops exporter --profile prod --listen :9121 --keys-rate 1000 --all-dbs'], ['CI / monitoring', 'curl -sf localhost:9121/metrics | promtool check metrics']],
  'rdb stats': [['terminal', 'redis-cli -h replica-1 --rdb - | redis-ops rdb stats -'], ['cron', 'redis-ops rdb stats /backups/dump-$(date +%F).rdb.gz --json > mem-$(date +%F).json'], ['CI', "redis-ops rdb stats dump.rdb --json | jq -e '.ttl.none < 1000'"]],
  'rdb scan': [['terminal', "redis-ops rdb scan dump.rdb 'session:*' --no-ttl | head"], ['cron / CI', 'redis-ops rdb scan dump.rdb --type hash --db 0 > hashes.ndjson']],
  'rdb export': [['terminal', 'redis-ops rdb export dump.rdb -o dump.jsonl.gz && redis-ops restore dump.jsonl.gz --url redis://new:6379'], ['cron', 'redis-ops rdb export /snapshots/nightly.rdb.gz -o /backups/nightly.jsonl.gz --force --json'], ['CI', "redis-ops rdb export fixture.rdb 'user:*' -o - | redis-ops restore - --yes"]],
  sandbox: [['terminal', 'redis-ops sandbox'], ['CI', 'redis-ops sandbox --json --keys 1000 &']],
  completion: [['bash', 'source <(redis-ops completion bash)   # in ~/.bashrc'], ['zsh', 'source <(redis-ops completion zsh)    # in ~/.zshrc'], ['fish', 'redis-ops completion fish > ~/.config/fish/completions/redis-ops.fish']],
};

/** Which job each top-level command is for, in the top-level help. */
const GROUPS: Record<string, string> = {
  keys: 'Inspect:', memory: 'Inspect:', health: 'Monitor:', exporter: 'Monitor:', top: 'Monitor:', hotkeys: 'Monitor:', clients: 'Monitor:', slowlog: 'Monitor:', latency: 'Monitor:',
  queue: 'Queues:', workers: 'Queues:', ttl: 'Maintain:', locks: 'Maintain:', backup: 'Backup:', rdb: 'Backup:', restore: 'Backup:', copy: 'Backup:', diff: 'Backup:', sandbox: 'Try it:', completion: 'Try it:',
};

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Examples at the end of every command's help; top-level commands grouped by job. */
export function addExamplesAndGroups(program: Command): void {
  const visit = (cmd: Command) => {
    const examples = EXAMPLES[pathOf(cmd)];
    if (examples) {
      const width = Math.max(...examples.map(([who]) => who.length));
      cmd.addHelpText('after', `\nExamples:\n${examples.map(([who, line]) => `  ${`# ${who}`.padEnd(width + 2)}  ${line}`).join('\n')}\n`);
    }
    for (const sub of cmd.commands as Command[]) visit(sub);
  };
  program.addHelpText('after', `
Connection and output options (-h HOST -p PORT -n DB -u URL --json …) go
before the command, as in redis-cli, or after it: redis-ops -h cache-1 -n 2 keys stats
redis-ops help keys scan     the help of one command, with examples
Reference: docs/ in the package (docs/flags.md lists every flag)`);
  for (const cmd of program.commands as Command[]) {
    const group = GROUPS[cmd.name()];
    if (group) cmd.helpGroup(group);
    visit(cmd);
  }
}

export function commandsWithoutExamples(program: Command): string[] {
  const missing: string[] = [];
  const visit = (cmd: Command) => {
    const hidden = (cmd as unknown as { _hidden: boolean })._hidden;
    if ((cmd.commands as Command[]).length === 0 && !hidden && !EXAMPLES[pathOf(cmd)]) missing.push(pathOf(cmd));
    for (const sub of cmd.commands as Command[]) visit(sub);
  };
  for (const cmd of program.commands as Command[]) visit(cmd);
  return missing;
}
