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

// ---- courses ----

export type Unlock = { kind: 'open' } | { kind: 'level'; level: number } | { kind: 'purchase' } | { kind: 'date'; at: string };

export interface Progress {
  completed: number;
  total: number;
}

export interface Course {
  id: number;
  slug: string;
  title: string;
  summary: string;
  coverUrl: string;
  priceCents: number;
  currency: string;
  unlock: Unlock;
  lessonCount: number;
  enrolled: boolean;
  progress: Progress;
}

export type LockedReason = 'not_enrolled' | 'level_required' | 'purchase_required' | 'drip';

export interface LessonSummary {
  id: number;
  title: string;
  durationSec: number;
  preview: boolean;
  completed: boolean;
  locked: boolean;
  lockedReason: LockedReason | null;
  unlocksAt: string | null;
}

export interface CourseDetail extends Course {
  modules: { id: number; title: string; lessons: LessonSummary[] }[];
}

export interface Lesson {
  id: number;
  title: string;
  /** HTML sanitized by the server. */
  body: string;
  videoUrl: string;
  durationSec: number;
  completed: boolean;
}

// ---- mixes, events, live ----

export interface Creator {
  id: number;
  username: string;
  displayName: string;
  avatarUrl: string;
}

export interface Mix {
  id: number;
  title: string;
  creator: Creator;
  genres: string[];
  durationSec: number;
  coverUrl: string;
  audioUrl: string;
  plays: number;
  likes: number;
  liked: boolean;
  createdAt: string;
}

export type RSVPStatus = 'going' | 'interested' | 'not_going' | 'waitlisted';

export interface Event {
  id: number;
  ownerId: number;
  title: string;
  description: string;
  startsAt: string;
  endsAt: string;
  location: string;
  streamUrl: string;
  capacity: number | null;
  going: number;
  waitlisted: number;
  myRsvp: RSVPStatus | null;
  /** The caller's 1-based place in the waitlist while waitlisted, else null. */
  myWaitlistPosition: number | null;
}

export interface Track {
  title: string;
  artist: string;
  artworkUrl: string;
}

export interface NowPlaying {
  live: boolean;
  dj: Creator | null;
  track: Track | null;
  startedAt: string | null;
  listeners: number;
}

export interface PlayedTrack extends Track {
  id: number;
  dj: Creator | null;
  startedAt: string;
}

// ---- XP, leaderboard, achievements, collectibles, wallet (PRODUCT.md) ----

export interface XPEntry {
  id?: number;
  amount: number;
  reason: string;
  ref: string;
  createdAt: string;
}

export interface Ranked {
  rank: number;
  user: Author;
  xp: number;
}

export interface Leaderboard {
  period: string;
  items: Ranked[];
  me: { rank: number; xp: number } | null;
  updatedAt: string;
}

export interface Achievement {
  id: number;
  slug: string;
  name: string;
  description: string;
  iconUrl: string;
  xp: number;
  rarity: string;
  awardedCount: number;
  /** What earns it; null: granted by hand only. */
  rule?: AchievementRule | null;
}

export interface AchievementRule {
  kind: 'messages' | 'shouts' | 'streak' | 'courses' | 'level' | 'mixes' | 'events';
  count: number;
}

export interface Collectible {
  id: number;
  slug: string;
  name: string;
  imageUrl: string;
  rarity: string;
  supply: number | null;
  remaining: number | null;
  /** null: not for sale (granted by an achievement only). */
  priceCredits: number | null;
  achievementId: number | null;
}

/** A collectible someone holds: POST /api/collectibles/{id}/purchase, GET /api/users/{id}/collectibles. */
export interface Owned {
  collectible: Collectible;
  serial: number;
  acquiredAt: string;
}

export interface Wallet {
  balance: number;
  currency: string;
}

export interface WalletTx {
  id: number;
  amount: number;
  kind: 'topup' | 'tip_sent' | 'tip_received' | 'purchase' | 'refund' | 'adjustment';
  counterparty: unknown;
  ref: string;
  balanceAfter: number;
  createdAt: string;
}

export interface CreditPack {
  pack: string;
  credits: number;
  priceCents: number;
  currency: string;
}

// ---- admin console (PRODUCT.md) ----

export interface AdminUser {
  id: number;
  username: string;
  email: string;
  displayName: string;
  role: Role;
  status?: string;
  banned?: boolean;
  bannedUntil?: string | null;
  banReason?: string;
  createdAt: string;
}

/** Open reports on one target (GET /api/admin/reports); resolve reportId to resolve them all. */
export interface ReportGroup {
  reportId: number;
  target: { kind: string; id: number; authorId: number };
  count: number;
  reasons: { reportId: number; reporterId: number; reason: string; createdAt: string }[];
  firstReportedAt: string;
  lastReportedAt: string;
  status: string;
  resolution?: string;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: { id: number; ip: string };
  action: string;
  target: { kind: string; id: number | string };
  before: unknown;
  after: unknown;
  reason: string;
}

/** A course as admins see it (GET /api/admin/courses[/{id}]): published or not; modules only on one course. */
export interface AdminCourse {
  id: number;
  slug: string;
  title: string;
  summary: string;
  coverUrl: string;
  priceCents: number;
  currency: string;
  unlock: Unlock;
  published: boolean;
  lessonCount: number;
  createdAt: string;
  updatedAt: string;
  modules: AdminModule[] | null;
}

export interface AdminModule {
  id: number;
  courseId: number;
  title: string;
  position: number;
  lessons: AdminLesson[];
}

/** A lesson with its source (what the admin wrote) and body (as the server rendered and sanitized it). */
export interface AdminLesson {
  id: number;
  courseId: number;
  moduleId: number;
  title: string;
  format: 'markdown' | 'html';
  source: string;
  body: string;
  videoUrl: string;
  durationSec: number;
  preview: boolean;
  dripDays: number;
  position: number;
  createdAt: string;
  updatedAt: string;
}
