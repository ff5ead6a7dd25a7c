// The storage controllers: binding and local-path provisioning, and in-use protection.
import type { ControllerDescriptor } from '../types.ts';
import { persistentVolumeControllerDescriptor } from './persistent-volume-controller.ts';
import { pvProtectionController, pvcProtectionController } from './protection.ts';

export const volumeControllers: readonly ControllerDescriptor[] = [persistentVolumeControllerDescriptor, pvcProtectionController, pvProtectionController];
