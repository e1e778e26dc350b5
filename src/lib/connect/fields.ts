/**
 * The connection settings, once: each one's command-line flag, help text and
 * config-profile type. The command layer makes the Commander options from
 * this table (src/commands/options.ts), the config file's profiles are
 * validated against it (config.ts), and docs/flags.md lists what it makes.
 */
export type ProfileKind = 'string' | 'boolean' | 'port' | 'db';

export interface ConnectionField {
  /** The property in flags and in a profile (camelCase of the flag). */
  readonly name: string;
  /** The flag as Commander spells it, without the value (null: profile only). */
  readonly flag: string | null;
  /** The value's placeholder; absent for a switch. */
  readonly arg?: string;
  readonly help: string;
  /** Its type in a config profile (absent: command line only). */
  readonly profile?: ProfileKind;
}

export const CONNECTION_FIELDS = [
  { name: 'url', flag: '-u, --url', arg: '<url>', help: 'redis://[user:password@]host[:port][/db] or rediss:// (env REDIS_URL)', profile: 'string' },
  { name: 'host', flag: '-h, --host', arg: '<host>', help: 'server host (default 127.0.0.1)', profile: 'string' },
  { name: 'port', flag: '-p, --port', arg: '<port>', help: 'server port (default 6379)', profile: 'port' },
  { name: 'db', flag: '-n, --db', arg: '<n>', help: 'logical database (default 0)', profile: 'db' },
  { name: 'user', flag: '--user', arg: '<name>', help: 'ACL user name', profile: 'string' },
  { name: 'password', flag: '-a, --password', arg: '<password>', help: 'password (visible in ps: prefer env REDISCLI_AUTH or --password-file)', profile: 'string' },
  { name: 'passwordEnv', flag: null, help: 'the environment variable holding the password', profile: 'string' },
  { name: 'passwordFile', flag: '--password-file', arg: '<file>', help: 'read the password from FILE', profile: 'string' },
  { name: 'askpass', flag: '--askpass', help: 'ask for the password on the terminal' },
  { name: 'tls', flag: '--tls', help: 'connect with TLS', profile: 'boolean' },
  { name: 'cacert', flag: '--cacert', arg: '<file>', help: 'CA certificate to verify the server with', profile: 'string' },
  { name: 'cert', flag: '--cert', arg: '<file>', help: 'client certificate', profile: 'string' },
  { name: 'key', flag: '--key', arg: '<file>', help: 'TLS client private key', profile: 'string' },
  { name: 'insecure', flag: '--insecure', help: 'do not verify the server certificate', profile: 'boolean' },
  { name: 'cluster', flag: '--cluster', help: 'treat the server as a cluster node (detected automatically)', profile: 'boolean' },
  { name: 'sentinel', flag: '--sentinel', arg: '<host:port,...>', help: 'find the master through these Sentinels', profile: 'string' },
  { name: 'masterName', flag: '--master-name', arg: '<name>', help: 'the master name the Sentinels monitor', profile: 'string' },
  { name: 'timeout', flag: '--timeout', arg: '<dur>', help: 'the bound on each wait: the connect, and every command\'s answer (default 10s); health: the whole check', profile: 'string' },
  { name: 'profile', flag: '--profile', arg: '<name>', help: 'a connection profile from the config file' },
  { name: 'config', flag: '--config', arg: '<file>', help: 'config file (env REDIS_OPS_CONFIG, ./redis-ops.json, $XDG_CONFIG_HOME/redis-ops/config.json)' },
] as const satisfies readonly ConnectionField[];

type Field = (typeof CONNECTION_FIELDS)[number];

/** The connection flags as Commander hands them over: text for options with a value, true for switches. */
export type ConnectionFlags = { [F in Field as F['flag'] extends null ? never : F['name']]?: F extends { arg: string } ? string : boolean };

type ProfileType<K> = K extends 'boolean' ? boolean : K extends 'port' | 'db' ? number : string;
/** A config profile: the fields with a profile type. */
export type ProfileConfig = { [F in Field as F extends { profile: ProfileKind } ? F['name'] : never]?: F extends { profile: infer K } ? ProfileType<K> : never };

/** The profile fields and their types. */
export const PROFILE_FIELDS: Record<string, ProfileKind> = Object.fromEntries(
  CONNECTION_FIELDS.flatMap((f) => ('profile' in f ? [[f.name, f.profile]] : [])),
);
