/** Runs the reconciler at start and then every `intervalMs`, one run at a time; logs and counts repairs. */
import type { Logger } from 'pino';
import { reconcile, type ReconcileDeps, type ReconcileReport } from '../../core/reconcile.ts';
import type { Metrics } from '../metrics.ts';

export interface ReconcilerJob {
  /** Run once now (or wait for the run under way) and return its report. */
  runNow(): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

const REPAIRS = ['paymentsSettled', 'paymentsAbandoned', 'timedOut', 'reservationsSettled', 'reservationsReleased', 'reservationsExpired', 'stockResynced', 'notesRefilled'] as const;

export function startReconciler(deps: ReconcileDeps & { logger: Logger; metrics: Metrics }, opts: { intervalMs: number }): ReconcilerJob {
  let running: Promise<ReconcileReport> | null = null;
  let stopped = false;

  function runNow(): Promise<ReconcileReport> {
    running ??= reconcile(deps)
      .then((report) => {
        for (const kind of REPAIRS) if (report[kind] > 0) deps.metrics.reconcilerRepairs.inc({ kind }, report[kind]);
        const repaired = REPAIRS.some((kind) => report[kind] > 0) || report.alerts > 0 || report.expiriesDeferred > 0;
        deps.logger[repaired ? 'info' : 'debug'](report, 'reconciler run');
        return report;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  const tick = () =>
    runNow().catch((err: unknown) => {
      deps.logger.warn({ err }, 'reconciler run failed; will try again');
    });
  void tick();
  const timer = setInterval(() => void (stopped ? undefined : tick()), opts.intervalMs);
  timer.unref();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
