export {
  openSession,
  type AttachConfig,
  type DumpConfig,
  type LaunchConfig,
  type OpenedSession,
  type SessionConfig,
  type XenConfig,
} from './open-session.js';
