export { attachXen, parseXenTarget, type XenAttachment, type XenAttachOptions, type XenDomain } from './attach.js';
export { NoSuchDomainError, XenError } from './errors.js';
export { Xl, type DomainConfig, type DomainState } from './xl.js';
