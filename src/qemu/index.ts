export { launchQemu, findQemu, freeLoopbackPort, qemuArgs, QemuInstance, QemuError, type LaunchOptions } from './launch.js';
export { QmpClient, QmpError, type QmpEvent } from './qmp.js';
