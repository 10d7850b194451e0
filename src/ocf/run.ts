// The OCF dispatcher: one action argument, meta-data and usage before any validation,
// an unknown action is 3, a failure prints `ocf-exit-reason:` on stderr and returns its code.
import type { AgentDefinition, OcfContext } from './agent';
import { OCF, OcfError, type OcfCode } from './codes';
import { createLog, startTrace } from './log';
import { renderMetadata } from './metadata';
import { checkParameters, readParameters } from './params';

export interface OcfIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: OcfIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function usage(agent: AgentDefinition): string {
  const names = [...new Set(['meta-data', 'usage', ...agent.actions.map((a) => a.name)])];
  return `usage: ${agent.name} {${names.join('|')}}\n`;
}

export function exitReason(io: OcfIo, env: NodeJS.ProcessEnv, reason: string): void {
  const prefix = env.OCF_EXIT_REASON_PREFIX || 'ocf-exit-reason:';
  io.stderr(`${prefix}${reason}\n`);
}

export async function runAgent(
  agent: AgentDefinition,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: OcfIo = processIo,
): Promise<OcfCode> {
  // OCF: the action is the sole argument; the others are ignored.
  const action = argv[0];
  if (action === undefined || action === '') {
    io.stderr(usage(agent));
    return OCF.ERR_ARGS;
  }
  if (action === 'meta-data') {
    io.stdout(renderMetadata(agent));
    return OCF.SUCCESS;
  }
  if (action === 'usage' || action === 'help') {
    io.stdout(usage(agent));
    return OCF.SUCCESS;
  }
  const handler = Object.hasOwn(agent.handlers, action) ? agent.handlers[action] : undefined;
  if (handler === undefined) {
    io.stderr(usage(agent));
    exitReason(io, env, `action '${action}' is not supported by ${agent.name}`);
    return OCF.ERR_UNIMPLEMENTED;
  }

  const interval = env.OCF_RESKEY_CRM_meta_interval;
  const instance = env.OCF_RESOURCE_INSTANCE || agent.name;
  const log = createLog(agent.name, instance, env);
  startTrace(agent.name, instance, action, env);
  const ctx: OcfContext = {
    action,
    params: readParameters(agent, env),
    instance,
    env,
    log,
    isProbe: action === 'monitor' && (interval === undefined || interval === '' || interval === '0'),
    checkLevel: Number.parseInt(env.OCF_CHECK_LEVEL ?? env.OCF_RESKEY_OCF_CHECK_LEVEL ?? '0', 10) || 0,
  };
  try {
    // Stop must succeed on a broken configuration when nothing runs; the agent decides that itself.
    if (action !== 'stop') checkParameters(agent, ctx.params);
    return await handler(ctx);
  } catch (err) {
    const [code, reason] =
      err instanceof OcfError
        ? [err.code, err.reason]
        : [OCF.ERR_GENERIC, `internal error in ${action}: ${err instanceof Error ? err.message : String(err)}`];
    exitReason(io, env, reason);
    // Pacemaker shows the exit reason; a configured log keeps it with the rest of the story
    // (on stderr it is already there).
    if (code !== OCF.NOT_RUNNING && log.sink !== 'stderr') log.error(reason);
    return code;
  }
}
