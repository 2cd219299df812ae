// Shapes of Plaza's API (see /api/openapi.json).

export type Role = 'user' | 'creator' | 'moderator' | 'admin';

export interface User {
  id: number;
  email: string;
  username: string;
  displayName: string;
  bio: string;
  avatarUrl: string;
  role: Role;
  xp: number;
  level: number;
  emailVerified: boolean;
  mfaEnabled: boolean;
  createdAt: string;
}

export interface Profile {
  id: number;
  username: string;
  displayName: string;
  bio: string;
  avatarUrl: string;
  role: Role;
  xp: number;
  level: number;
  createdAt: string;
}

export interface Author {
  id: number;
  username: string;
  displayName: string;
  avatarUrl: string;
  level: number;
}

export interface List<T> {
  items: T[];
  nextCursor?: string;
}

export interface Channel {
  id: number;
  slug: string;
  name: string;
  description: string;
  private: boolean;
}

/** A channel message, a direct message or a shout. */
export interface Message {
  id: number;
  body: string;
  createdAt: string;
  editedAt?: string | null;
  author: Author;
  channelId?: number;
  threadId?: number;
}

export interface Thread {
  id: number;
  with: Author;
  lastMessageAt: string;
  lastMessageId: number;
  unread: number;
}

export interface Session {
  id: number;
  userAgent: string;
  ip: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  current: boolean;
}

export interface ContactMessage {
  id: number;
  name: string;
  email: string;
  message: string;
  ip: string;
  read: boolean;
  createdAt: string;
}

export interface Job {
  id: number;
  kind: string;
  priority: number;
  runAt: string;
  maxAttempts: number;
  state: string;
  attempts: number;
  errors: { at: string; attempt: number; error: string }[] | null;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

export interface JobStats {
  workers: number;
  busy: number;
  processed: number;
  failed: number;
  died: number;
  pending: number;
  running: number;
  dead: number;
  depth: { kind: string; state: string; count: number }[] | null;
}
