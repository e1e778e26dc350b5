import type { Command } from 'commander';
import type { Streams } from '../output/output.js';

/**
 * Where a run's streams are and what it exits with, per command tree: the
 * CLI hands the process's own, a test hands fakes and runs a command
 * in-process (cli.ts `run`).
 */
interface RunState { io: Streams; exitCode: number }

const states = new WeakMap<Command, RunState>();

export function processStreams(): Streams {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

function root(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

export function attachIo(program: Command, io: Streams): void {
  states.set(program, { io, exitCode: 0 });
}

export function ioFor(cmd: Command): Streams {
  return states.get(root(cmd))?.io ?? processStreams();
}

/** The exit code a command's action decided (errors are mapped by cli.ts). */
export function setExitCode(cmd: Command, code: number): void {
  const s = states.get(root(cmd));
  if (s) s.exitCode = code;
  else process.exitCode = code;
}

export function exitCodeOf(program: Command): number {
  return states.get(program)?.exitCode ?? 0;
}
