/** The shell: header, language switch, session, and which page a path shows. */
import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { api, sessionStore, setSession, type User } from './api.ts';
import { Notice } from './components.tsx';
import { setLang, useT } from './i18n.ts';
import { AdminPage } from './pages/admin.tsx';
import { AuthPage, type AuthMode } from './pages/auth.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { SalePage, SalesPage } from './pages/goods.tsx';
import { OrderPage, OrdersPage } from './pages/orders.tsx';
import { Link, match, navigate, useLocation } from './router.tsx';
import { useStore } from './store.ts';

export function App() {
  const t = useT();
  const session = useStore(sessionStore);
  const { path, query } = useLocation();

  // The stored user may be stale (role changed, account gone): ask once per token.
  useEffect(() => {
    if (!session) return;
    api<User>('GET', '/api/me').then(
      (user) => {
        const current = sessionStore.get();
        if (current?.token === session.token && JSON.stringify(current.user) !== JSON.stringify(user)) setSession({ ...current, user });
      },
      () => undefined,
    );
  }, [session?.token]);

  const isAdmin = session?.user.role === 'admin';
  const needLogin = (page: JSX.Element) => (session ? page : <LoginFirst path={path} />);
  const adminOnly = (page: JSX.Element) =>
    !session ? <LoginFirst path={path} /> : isAdmin ? page : <main class="page"><Notice kind="error">{t.forbidden}</Notice></main>;

  let page: JSX.Element;
  let m: Record<string, string> | null;
  if (path === '/') page = <SalesPage />;
  else if ((m = match('/goods/:id', path))) page = <SalePage id={Number(m.id)} />;
  else if (path === '/login' || path === '/register' || path === '/reset') page = <AuthPage mode={path.slice(1) as AuthMode} next={query.get('next') ?? '/'} />;
  else if (match('/orders', path)) page = needLogin(<OrdersPage />);
  else if ((m = match('/orders/:orderNo', path))) page = needLogin(<OrderPage orderNo={m.orderNo!} />);
  else if (match('/admin', path)) page = adminOnly(<AdminPage />);
  else if ((m = match('/admin/goods/:id', path))) page = adminOnly(<DashboardPage id={Number(m.id)} />);
  else page = <main class="page"><Notice kind="info">{t.notFoundPage} <Link href="/">{t.back}</Link></Notice></main>;

  const nav = (href: string, label: string, testid: string) => (
    <Link href={href} class={path === href || (href !== '/' && path.startsWith(href + '/')) ? 'nav-link active' : 'nav-link'} data-testid={testid}>
      {label}
    </Link>
  );
  return (
    <>
      <header class="topbar">
        <div class="topbar-inner">
          <Link href="/" class="logo">
            <span class="logo-mark">⚡</span>
            <span class="logo-text">{t.brand}</span>
            <span class="logo-sub">{t.brandSub}</span>
          </Link>
          <nav class="nav">
            {nav('/', t.navSales, 'nav-sales')}
            {session && nav('/orders', t.navOrders, 'nav-orders')}
            {isAdmin && nav('/admin', t.navAdmin, 'nav-admin')}
          </nav>
          <div class="topbar-right">
            <button class="lang-btn" data-testid="lang" onClick={() => setLang(t.lang === 'en' ? 'zh' : 'en')}>
              {t.switchLang}
            </button>
            {session ? (
              <>
                <span class="who" data-testid="who">{session.user.nickname || session.user.phone}</span>
                <button
                  class="btn btn-small"
                  data-testid="logout"
                  onClick={() => {
                    // Ends every session of this account on the server too; the page forgets it either way.
                    void api('POST', '/api/auth/logout').catch(() => undefined);
                    setSession(null);
                    navigate('/');
                  }}
                >
                  {t.logout}
                </button>
              </>
            ) : (
              <Link href={`/login?next=${encodeURIComponent(path)}`} class="btn btn-small btn-primary" data-testid="nav-login">
                {t.login}
              </Link>
            )}
          </div>
        </div>
      </header>
      {page}
      <footer class="footer">Seckill · 秒杀 — {t.lang === 'zh' ? '每人限购一件，先到先得' : 'One per customer, first come first served'}</footer>
    </>
  );
}

function LoginFirst({ path }: { path: string }) {
  const t = useT();
  return (
    <main class="page narrow">
      <Notice kind="info">
        {t.errors.UNAUTHORIZED} <Link href={`/login?next=${encodeURIComponent(path)}`}>{t.login} →</Link>
      </Notice>
    </main>
  );
}
