import { signal } from '@preact/signals';
import { api } from './api';
import type { Channel, List } from './types';

/** The channels the current visitor may read (private ones only for members). */
export const channels = signal<Channel[] | null>(null);
export const channelsError = signal('');

let loadedFor: number | null | undefined;

export async function loadChannels(userId: number | null): Promise<void> {
  if (loadedFor === userId && channels.value) return;
  loadedFor = userId;
  try {
    channels.value = (await api<List<Channel>>('/api/community/channels')).items;
    channelsError.value = '';
  } catch (e) {
    channelsError.value = (e as Error).message;
  }
}
