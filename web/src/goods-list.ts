/** The sale list, polled: the shop refreshes stock every 2 s, the admin list every 5 s. */
import { useState } from 'preact/hooks';
import { api, type Good } from './api.ts';
import { usePolling } from './store.ts';

/** `reload`: read the list again now (after an admin changed a sale), then keep polling. */
export function useGoodsList(everyMs: number): { goods: Good[] | null; error: unknown; reload: () => void } {
  const [goods, setGoods] = useState<Good[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  usePolling(
    async () => {
      try {
        setGoods((await api<{ items: Good[] }>('GET', '/api/seckill/goods')).items);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    everyMs,
    [round],
  );
  return { goods, error, reload: () => setRound((r) => r + 1) };
}
