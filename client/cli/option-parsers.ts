/**
 * Parsers for option values, so every command refuses a bad value the same way, before it
 * connects anywhere: commander reports "option '--limit <n>' argument 'abc' is invalid.
 * expected a positive integer such as 50", exit code 2 (and JSON on stdout with --json).
 */
import { InvalidArgumentError } from 'commander';

/** 1, 2, 3 …: --limit, --keep, --max-uses. */
export function positiveInteger(example: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`expected a positive integer such as ${example}`);
    return Number(value);
  };
}

/** 0, 1, 2 …: day counts. */
export function nonNegativeInteger(example: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number (0 or more) such as ${example}`);
    return Number(value);
  };
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(s|m|h|d)$/;

/** "90s", "30m", "2h", "1d" as text (schedules keep the text), checked. */
export function durationText(value: string): string {
  const match = DURATION.exec(value.trim());
  if (!match || Number(match[1]) === 0) throw new InvalidArgumentError('expected a duration such as 90s, 30m, 12h or 1d');
  return value.trim();
}

/** The same, in milliseconds: --timeout. */
export function durationMs(value: string): number {
  const match = DURATION.exec(durationText(value))!;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** An ISO date/time, or an age such as 2h, 3d ("since 3 days ago"): --since. */
export function pointInTime(value: string, now: () => number = Date.now): Date {
  const ago = /^(\d+)([mhd])$/.exec(value.trim());
  if (ago) return new Date(now() - Number(ago[1]) * UNIT_MS[ago[2] as 'm' | 'h' | 'd']);
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new InvalidArgumentError('expected an ISO date/time such as 2026-11-25T06:00:00Z, or an age such as 2h or 3d');
  return at;
}
