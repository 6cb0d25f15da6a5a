/** Demo sales for a fresh shop: one on sale now, one starting soon, one small one that sells out fast. */
import type { NewSeckillGood } from '../core/model.ts';

const MIN = 60_000;

export function demoSales(now: Date): NewSeckillGood[] {
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
  return [
    {
      name: 'Mechanical keyboard K8 / 机械键盘 K8',
      title: 'Hot-swappable, 84 keys, tri-mode — 100 units at 1 yuan',
      imageUrl: '/images/keyboard.svg',
      price: 39900,
      seckillPrice: 100,
      stock: 100,
      startAt: at(-1 * MIN),
      endAt: at(24 * 60 * MIN),
    },
    {
      name: 'Noise-cancelling earbuds / 降噪耳机',
      title: 'Only 10 units — gone in a second',
      imageUrl: '/images/earbuds.svg',
      price: 89900,
      seckillPrice: 9900,
      stock: 10,
      startAt: at(-1 * MIN),
      endAt: at(24 * 60 * MIN),
    },
    {
      name: 'Smart watch S3 / 智能手表 S3',
      title: 'Starts in 10 minutes — 200 units',
      imageUrl: '/images/watch.svg',
      price: 129900,
      seckillPrice: 19900,
      stock: 200,
      startAt: at(10 * MIN),
      endAt: at(24 * 60 * MIN),
    },
  ];
}
