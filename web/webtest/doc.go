// Package webtest drives the web app in headless Chromium (chromedp)
// against a real Plaza server started in-process: its tests read like a
// member's steps (sign up, open the mail's link, chat in two browsers).
// They need /usr/bin/chromium (or PLAZA_CHROMIUM); without it they skip,
// except under CI=true, where they fail.
package webtest
