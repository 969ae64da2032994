import type { ScenarioResult } from './outcomes';

const duration = (seconds: number) => (seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

/** The fault run's table, as Markdown. */
export function renderTable(results: readonly ScenarioResult[], rate: number, answering: number): string {
  const rows = results.map(
    (r) =>
      `| ${r.scenario}, ${duration(r.seconds)} | ${r.sent} in ${r.loadSeconds} s (${r.sent - r.fromStrangers} to asks) | ${r.answered} | ${r.lost} | ${r.answeredTwice} | ${r.misrouted} | ${r.smsTwice} | ${r.dlq} | ${r.workerRestarts} | ${r.faultsInjected} |`,
  );
  return [
    `| scenario (${rate} replies/s throughout, ${answering}/s to a pending ask) | replies sent | answered | lost | answered twice | misrouted | SMS sent twice | in the DLQ | worker restarts | faults injected |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
