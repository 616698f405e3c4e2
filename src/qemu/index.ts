export {
  launchQemu,
  findQemu,
  RESERVED_QEMU_OPTIONS,
  freeLoopbackPort,
  qemuArgs,
  QemuInstance,
  QemuError,
  type LaunchOptions,
} from './launch.js';
export { QmpClient, QmpError, type QmpEvent } from './qmp.js';
