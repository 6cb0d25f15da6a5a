/** Admin: every sale with its actions (edit, pause, add units, end) and its orders' export, a form to create one (the api's validation names the fields to fix), the order search and the audit log. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, serverNow, type Good } from '../api.ts';
import { GoodImage, Loading, Notice, PhaseBadge, Spinner } from '../components.tsx';
import { cents, dateTime, errorText, localInput, localName, yuan } from '../format.ts';
import { SaleActions } from './admin-sale-actions.tsx';
import { useT } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';
import { useGoodsList } from '../goods-list.ts';
import { AuditList, ExportCsvButton, OrderSearch } from './admin-service.tsx';

const DEMO_IMAGES = ['/images/keyboard.svg', '/images/earbuds.svg', '/images/watch.svg'];

export function AdminPage() {
  const t = useT();
  const { goods, error, reload } = useGoodsList(5000);
  const now = serverNow();
  return (
    <main class="page">
      <h1 class="page-title">{t.adminTitle}</h1>
      <div class="admin-layout">
        <section class="card admin-sales">
          <h2>{t.adminSales}</h2>
          {error !== null && <Notice kind="error">{errorText(error, t)}</Notice>}
          {goods === null && error === null && <Loading />}
          <ul class="sale-rows">
            {goods?.map((g) => (
              <li data-testid="admin-sale" data-good-id={g.id}>
                <GoodImage good={g} class="thumb" />
                <div class="sale-row-main">
                  <Link href={`/admin/goods/${g.id}`} class="sale-row-name">{localName(g.name, t.lang)}</Link>
                  <div class="muted small">
                    {yuan(g.seckillPrice)} · {t.left(g.stock)} · {dateTime(g.startAt, t.lang)}
                  </div>
                </div>
                {g.paused && <span class="badge badge-paused" data-testid="paused-badge">{t.paused}</span>}
                <PhaseBadge good={g} now={now} />
                <ExportCsvButton goodId={g.id} />
                <Link href={`/admin/goods/${g.id}`} class="btn btn-small">{t.dashboard}</Link>
                <SaleActions good={g} now={now} onChanged={reload} />
              </li>
            ))}
          </ul>
        </section>
        <NewSaleForm />
      </div>
      <OrderSearch />
      <AuditList />
    </main>
  );
}

function NewSaleForm() {
  const t = useT();
  const [form, setForm] = useState(() => ({
    name: '',
    title: '',
    imageUrl: DEMO_IMAGES[0]!,
    price: '',
    seckillPrice: '',
    stock: '100',
    startAt: localInput(Date.now() + 60_000),
    endAt: localInput(Date.now() + 3_600_000),
  }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const when = (v: string) => (v ? new Date(v).toISOString() : undefined);
    const stock = form.stock.trim() === '' ? undefined : Number(form.stock);
    try {
      const good = await api<Good>('POST', '/api/admin/seckill/goods', {
        name: form.name,
        title: form.title,
        imageUrl: form.imageUrl,
        price: cents(form.price),
        seckillPrice: cents(form.seckillPrice),
        stock: Number.isFinite(stock) ? stock : null,
        startAt: when(form.startAt),
        endAt: when(form.endAt),
      });
      navigate(`/admin/goods/${good.id}?created=1`);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  const problems = (field: string) => {
    if (!error?.details?.fields?.includes(field)) return null;
    const fromApi = error.details.problems?.filter((p) => p.field === field).map((p) => p.problem) ?? [];
    return (
      <small class="field-error" data-testid={`error-${field}`}>
        {t.fieldHints[field] ?? t.fieldInvalid}
        {fromApi.length > 0 && <span class="muted"> ({fromApi.join('; ')})</span>}
        {fromApi.length === 0 && error.message && <span class="muted"> ({error.message})</span>}
      </small>
    );
  };
  const field = (key: keyof typeof form, label: string, input: JSX.Element) => (
    <label class={error?.details?.fields?.includes(key) ? 'field invalid' : 'field'}>
      <span>{label}</span>
      {input}
      {problems(key)}
    </label>
  );

  return (
    <form class="card form new-sale" onSubmit={submit} noValidate data-testid="new-sale-form">
      <h2>{t.newSale}</h2>
      {field('name', t.name, <input name="name" value={form.name} onInput={set('name')} maxLength={100} />)}
      {field('title', t.title, <input name="title" value={form.title} onInput={set('title')} maxLength={200} />)}
      {field(
        'imageUrl',
        t.imageUrl,
        <>
          <input name="imageUrl" list="demo-images" value={form.imageUrl} onInput={set('imageUrl')} />
          <datalist id="demo-images">
            {DEMO_IMAGES.map((u) => <option value={u} />)}
          </datalist>
        </>,
      )}
      <div class="row">
        {field('price', t.priceYuan, <input name="price" inputMode="decimal" placeholder="399.00" value={form.price} onInput={set('price')} />)}
        {field('seckillPrice', t.seckillPriceYuan, <input name="seckillPrice" inputMode="decimal" placeholder="1.00" value={form.seckillPrice} onInput={set('seckillPrice')} />)}
      </div>
      {field('stock', t.stockUnits, <input name="stock" inputMode="numeric" value={form.stock} onInput={set('stock')} />)}
      <div class="row">
        {field('startAt', t.startAt, <input name="startAt" type="datetime-local" value={form.startAt} onInput={set('startAt')} />)}
        {field('endAt', t.endAt, <input name="endAt" type="datetime-local" value={form.endAt} onInput={set('endAt')} />)}
      </div>
      {error && (
        <Notice kind="error" testid="form-error">
          {errorText(error, t)}
        </Notice>
      )}
      <button class="btn btn-primary btn-block" type="submit" disabled={busy} data-testid="create-sale">
        {busy ? <><Spinner /> {t.creating}</> : t.create}
      </button>
    </form>
  );
}
