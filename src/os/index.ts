export { detectGuestOs } from './unikernel.js';
export { DESCRIPTIONS, type UnikernelDescription, type ThreadModel } from './description.js';
