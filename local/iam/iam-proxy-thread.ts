/**
 * The IAM proxy on a worker thread of its own. Every AWS call of every function crosses it
 * (its signature checked, its body parsed, its policies evaluated, then forwarded), which on
 * the stack's main thread competed with API Gateway and the state machines' interpreter for
 * one core. The thread makes the credentials of every function's session before it starts, so
 * an instance's environment is known on the main thread without asking the proxy.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../worker-script.ts';
import { type Denial, type IamProxy, RoleSessions, type SessionCredentials, type StartIamProxyOptions, functionEnvironment } from './iam-proxy.ts';
import { TemplateIam } from './template-iam.ts';

/** What the thread's entry (iam-proxy-worker.ts) is given. */
export interface ProxyThreadSetup {
  readonly options: Omit<StartIamProxyOptions, 'onDenied' | 'sessions'>;
  readonly sessions: readonly SessionCredentials[];
}

/** Thread → stack. */
export type ProxyThreadMessage =
  | { readonly type: 'listening'; readonly endpoint: string }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'denied'; readonly denial: Denial };

/** The proxy of every function in the template, on its own thread; `credentialsFor` knows only the functions' sessions. */
export async function startIamProxyThread(options: StartIamProxyOptions): Promise<IamProxy> {
  const iam = TemplateIam.fromTemplate(options.template);
  const sessions = new RoleSessions(iam);
  const functionIds = Object.entries(options.template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId]) => logicalId);
  for (const logicalId of functionIds) sessions.credentialsFor(sessions.functionSession(options.template, logicalId));

  const { onDenied, template, upstreams, port, host } = options;
  const setup: ProxyThreadSetup = { options: { template, upstreams, port, host }, sessions: sessions.all() };
  const worker = new Worker(workerScript(path.join(import.meta.dirname, 'iam-proxy-worker.ts')), {
    eval: true,
    workerData: setup,
    execArgv: [],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    worker.on('message', (message: ProxyThreadMessage) => {
      if (message.type === 'listening') resolve(message.endpoint);
      else if (message.type === 'failed') reject(new Error(message.message));
      else onDenied?.(message.denial);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the IAM proxy's thread exited with code ${code} before it listened`)));
  });

  return {
    endpoint,
    iam,
    credentialsFor(session) {
      const known = sessions.known(session);
      if (known === undefined) throw new Error(`the IAM proxy's thread knows the sessions of the template's functions only, not ${session.sessionName}`);
      return known;
    },
    environmentFor: (functionLogicalId) => functionEnvironment(options, sessions, functionLogicalId, endpoint),
    async close() {
      await worker.terminate();
    },
  };
}
