// OCF exit codes (OCF 1.1 and pacemaker's enum ocf_exitcode).
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
} as const;

export type OcfCode = (typeof OCF)[keyof typeof OCF];

/** A failure an action reports to pacemaker: the code and the reason shown as the exit reason. */
export class OcfError extends Error {
  constructor(
    readonly code: OcfCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'OcfError';
  }
}
