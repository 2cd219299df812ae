// Every page of the app: one module each, loaded the first time it is
// shown. The navigation is built from `nav`, filtered by the user's role;
// a page for a new API is one entry here and one file in pages/.

import type { ComponentType } from 'preact';
import { compile } from './router';
import type { Access } from './session';
import { unreadTotal } from './dms';

export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

type Loader = () => Promise<{ default: ComponentType<PageProps> }>;

export interface Route {
  path: string;
  title: string;
  access: Access;
  load: Loader;
}

export const routes: Route[] = [
  { path: '/', title: 'Plaza', access: 'anyone', load: () => import('./pages/Home') },
  { path: '/sign-in', title: 'Sign in', access: 'anyone', load: () => import('./pages/SignIn') },
  { path: '/sign-up', title: 'Sign up', access: 'anyone', load: () => import('./pages/SignUp') },
  { path: '/verify-email', title: 'Verify your address', access: 'anyone', load: () => import('./pages/VerifyEmail') },
  { path: '/reset-password', title: 'Reset your password', access: 'anyone', load: () => import('./pages/ResetPassword') },
  { path: '/channels', title: 'Channels', access: 'anyone', load: () => import('./pages/Channels') },
  { path: '/channels/:id', title: 'Channel', access: 'anyone', load: () => import('./pages/Channel') },
  { path: '/messages', title: 'Messages', access: 'user', load: () => import('./pages/Threads') },
  { path: '/messages/:id', title: 'Conversation', access: 'user', load: () => import('./pages/Thread') },
  { path: '/shouts', title: 'Shouts', access: 'anyone', load: () => import('./pages/Shouts') },
  { path: '/users/:id', title: 'Profile', access: 'anyone', load: () => import('./pages/Profile') },
  { path: '/settings', title: 'Settings', access: 'user', load: () => import('./pages/Settings') },
  { path: '/contact', title: 'Contact', access: 'anyone', load: () => import('./pages/Contact') },
  { path: '/courses', title: 'Courses', access: 'anyone', load: () => import('./pages/Courses') },
  { path: '/courses/:id', title: 'Course', access: 'anyone', load: () => import('./pages/Course') },
  { path: '/courses/:id/lessons/:lessonId', title: 'Lesson', access: 'anyone', load: () => import('./pages/Lesson') },
  { path: '/mixes', title: 'Mixes', access: 'anyone', load: () => import('./pages/Mixes') },
  { path: '/mixes/new', title: 'Publish a mix', access: 'creator', load: () => import('./pages/MixNew') },
  { path: '/mixes/:id', title: 'Mix', access: 'anyone', load: () => import('./pages/Mix') },
  { path: '/events', title: 'Events', access: 'anyone', load: () => import('./pages/Events') },
  { path: '/events/new', title: 'Create an event', access: 'creator', load: () => import('./pages/EventNew') },
  { path: '/events/:id', title: 'Event', access: 'anyone', load: () => import('./pages/Event') },
  { path: '/live', title: 'Now playing', access: 'anyone', load: () => import('./pages/Live') },
  { path: '/leaderboard', title: 'Leaderboard', access: 'anyone', load: () => import('./pages/Leaderboard') },
  { path: '/wallet', title: 'Wallet', access: 'user', load: () => import('./pages/Wallet') },
  { path: '/collectibles', title: 'Collectibles', access: 'anyone', load: () => import('./pages/Collectibles') },
  { path: '/admin', title: 'Admin', access: 'moderator', load: () => import('./pages/Admin') },
  { path: '/admin/users', title: 'Users', access: 'admin', load: () => import('./pages/AdminUsers') },
  { path: '/admin/reports', title: 'Reports', access: 'moderator', load: () => import('./pages/AdminReports') },
  { path: '/admin/cache', title: 'Cache', access: 'admin', load: () => import('./pages/AdminCache') },
  { path: '/admin/audit', title: 'Audit log', access: 'admin', load: () => import('./pages/AdminAudit') },
  { path: '/admin/inbox', title: 'Contact inbox', access: 'admin', load: () => import('./pages/AdminInbox') },
  { path: '/admin/jobs', title: 'Jobs', access: 'admin', load: () => import('./pages/AdminJobs') },
  { path: '/admin/ops', title: 'Operations', access: 'admin', load: () => import('./pages/AdminOps') },
  { path: '/admin/courses', title: 'Courses', access: 'admin', load: () => import('./pages/AdminCourses') },
  { path: '/admin/courses/:id', title: 'Course', access: 'admin', load: () => import('./pages/AdminCourse') },
  { path: '/admin/courses/:id/lessons/new', title: 'New lesson', access: 'admin', load: () => import('./pages/AdminLesson') },
  { path: '/admin/courses/:id/lessons/:lessonId', title: 'Lesson', access: 'admin', load: () => import('./pages/AdminLesson') },
  { path: '/admin/achievements', title: 'Achievements', access: 'admin', load: () => import('./pages/AdminAchievements') },
  { path: '/admin/collectibles', title: 'Collectibles', access: 'admin', load: () => import('./pages/AdminCollectibles') },
];

export const notFound: Route = { path: '', title: 'Not found', access: 'anyone', load: () => import('./pages/NotFound') };

const matchers = routes.map((r) => ({ route: r, match: compile(r.path) }));

export function resolve(path: string): { route: Route; params: Record<string, string> } {
  for (const { route, match } of matchers) {
    const params = match(path);
    if (params) return { route, params };
  }
  return { route: notFound, params: {} };
}

export interface NavItem {
  href: string;
  label: string;
  access: Access;
  /** A count shown beside the label (unread messages). */
  badge?: () => number;
}

export const nav: NavItem[] = [
  { href: '/channels', label: 'Channels', access: 'anyone' },
  { href: '/messages', label: 'Messages', access: 'user', badge: () => unreadTotal.value },
  { href: '/shouts', label: 'Shouts', access: 'anyone' },
  { href: '/courses', label: 'Courses', access: 'anyone' },
  { href: '/mixes', label: 'Mixes', access: 'anyone' },
  { href: '/events', label: 'Events', access: 'anyone' },
  { href: '/live', label: 'Live', access: 'anyone' },
  { href: '/leaderboard', label: 'Leaderboard', access: 'anyone' },
  { href: '/wallet', label: 'Wallet', access: 'user' },
  { href: '/admin', label: 'Admin', access: 'moderator' },
];

/** The admin console's pages, on /admin, by role. */
export const adminNav: NavItem[] = [
  { href: '/admin/users', label: 'Users', access: 'admin' },
  { href: '/admin/reports', label: 'Reports', access: 'moderator' },
  { href: '/admin/inbox', label: 'Contact inbox', access: 'admin' },
  { href: '/admin/jobs', label: 'Jobs', access: 'admin' },
  { href: '/admin/cache', label: 'Cache', access: 'admin' },
  { href: '/admin/audit', label: 'Audit log', access: 'admin' },
  { href: '/admin/ops', label: 'Operations', access: 'admin' },
  { href: '/admin/courses', label: 'Courses', access: 'admin' },
  { href: '/admin/achievements', label: 'Achievements', access: 'admin' },
  { href: '/admin/collectibles', label: 'Collectibles', access: 'admin' },
];
