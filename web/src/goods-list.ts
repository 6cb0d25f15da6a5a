/** The sale list, polled: the shop refreshes stock every 2 s, the admin list every 5 s. */
import { useState } from 'preact/hooks';
import { api, type Good } from './api.ts';
import { usePolling } from './store.ts';

export function useGoodsList(everyMs: number): { goods: Good[] | null; error: unknown } {
  const [goods, setGoods] = useState<Good[] | null>(null);
  const [error, setError] = useState<unknown>(null);
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
    [],
  );
  return { goods, error };
}
