import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { startSession } from './app/session.ts';
import { registerServiceWorker } from './app/pwa.ts';
import { configProblems } from './lib/env.ts';
import './app/styles.css';

if (!configProblems()) startSession();
registerServiceWorker();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
