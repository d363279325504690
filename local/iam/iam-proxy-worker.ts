/** The IAM proxy's thread (see iam-proxy-thread.ts): starts the proxy and reports its denials to the stack. */
import { parentPort, workerData } from 'node:worker_threads';
import { startIamProxy } from './iam-proxy.ts';
import type { ProxyThreadMessage, ProxyThreadSetup } from './iam-proxy-thread.ts';

const setup = workerData as ProxyThreadSetup;
const post = (message: ProxyThreadMessage) => parentPort!.postMessage(message);

startIamProxy({ ...setup.options, sessions: setup.sessions, onDenied: (denial) => post({ type: 'denied', denial }) }).then(
  (proxy) => post({ type: 'listening', endpoint: proxy.endpoint }),
  (error: unknown) => post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
);
