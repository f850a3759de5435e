// The web app's entry: providers (language, router, session, toasts) around the router.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app/App.tsx';
import { I18nProvider } from './app/i18n.tsx';
import { SessionProvider } from './app/session.tsx';
import { ToastProvider } from './ui/index.ts';

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
