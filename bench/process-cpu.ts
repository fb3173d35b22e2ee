// CPU time of process trees, read from /proc: what a server and its PostgreSQL cost for a piece
// of work, measured from outside (before/after) without touching the processes.
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK)).
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it has reaped. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return { pid, ppid: Number(fields[1]), ticks };
  } catch {
    return undefined; // exited meanwhile
  }
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** Pids whose command line contains every one of `parts` (our own servers, found by their unique arguments). */
export function pidsWithArgs(...parts: string[]): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (parts.every((p) => cmdline.includes(p))) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * CPU seconds used so far by the trees rooted at `roots`: the sum over their live processes of
 * own + reaped children's time. A child that exits between two readings moves into its parent's
 * reaped time, so a before/after difference still counts it.
 */
export function treeCpuSeconds(roots: number[]): number {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (s: ProcStat) => {
    if (seen.has(s.pid)) return;
    seen.add(s.pid);
    ticks += s.ticks;
    for (const c of children.get(s.pid) ?? []) visit(c);
  };
  for (const pid of roots) {
    const s = byPid.get(pid);
    if (s) visit(s);
  }
  return ticks / TICKS_PER_SECOND;
}
