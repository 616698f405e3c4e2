/** A Xen tool failed or the domain cannot be debugged; the message is one line for the user. */
export class XenError extends Error {
  override name = 'XenError';
}

/** xl knows no domain by that name or id. */
export class NoSuchDomainError extends XenError {
  override name = 'NoSuchDomainError';
  constructor(readonly domain: string) {
    super(`no Xen domain '${domain}' (see 'xl list')`);
  }
}
