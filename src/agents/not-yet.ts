// Placeholder handler for actions whose behaviour a later issue delivers: it says so and returns 3.
import type { ActionHandler } from '../ocf/agent';
import { OCF, OcfError } from '../ocf/codes';

export function notYet(agent: string): ActionHandler {
  return (ctx) => {
    throw new OcfError(OCF.ERR_UNIMPLEMENTED, `${agent} ${ctx.action} is not implemented yet`);
  };
}
