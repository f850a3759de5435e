// The web app's entry: providers (language, router, session, toasts) around
// the router, once the visitor's language has loaded; the page the visit
// starts on loads meanwhile.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app/App.tsx';
import { I18nProvider, initialLanguage, loadLanguage } from './app/i18n.tsx';
import { preloadPage } from './app/routes.tsx';
import { SessionProvider } from './app/session.tsx';
import { features } from './features/index.ts';
import { ToastProvider } from './ui/index.ts';

preloadPage(features.flatMap((f) => f.routes), location);
// The first render speaks the visitor's language; English words stand in if it cannot be loaded.
await loadLanguage(initialLanguage()).catch(() => undefined);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <BrowserRouter>
        <SessionProvider>
          <ToastProvider>
            <App />
          </ToastProvider>
        </SessionProvider>
      </BrowserRouter>
    </I18nProvider>
  </StrictMode>,
);
