package httpapi

// Who may call what: the route table (server.go) gives every route its
// access level; routes that act on one resource someone owns also say,
// here, who besides that level may act on it. The authorization matrix
// test walks both for every route and every role, and the OpenAPI document
// states each operation's level as x-plaza-access (and x-plaza-owner).

// String names an access level as the OpenAPI document does.
func (a access) String() string {
	switch a {
	case public:
		return "public"
	case optional:
		return "optional"
	case signedIn:
		return "signedIn"
	case verified:
		return "verified"
	case creatorOnly:
		return "creator"
	case moderatorOnly:
		return "moderator"
	case adminOnly:
		return "admin"
	}
	return "unknown"
}

// ownership says who, among callers the access level admits, may act on
// the one resource a route names.
type ownership string

const (
	// anyone the access level admits (liking a mix, RSVP, reacting).
	anyone ownership = "anyone"
	// ownerOrModerator: the resource's owner, or a moderator or admin;
	// anyone else gets 403.
	ownerOrModerator ownership = "ownerOrModerator"
	// ownerOnly: the owner only; anyone else, admins included, gets 403.
	ownerOnly ownership = "ownerOnly"
	// ownerHidden: the owner (or participant) only; anyone else, admins
	// included, gets 404, as if it did not exist.
	ownerHidden ownership = "ownerHidden"
	// ownerOrAdminHidden: the owner or an admin; anyone else gets 404.
	ownerOrAdminHidden ownership = "ownerOrAdminHidden"
)

// owned declares the ownership of every signed-in route that acts on one
// resource ("METHOD pattern"). A new such route must be added here: the
// matrix test fails until it is.
var owned = map[string]ownership{
	"DELETE /api/auth/sessions/{id}":                        ownerHidden,
	"POST /api/community/channels/{id}/messages":            anyone,
	"PATCH /api/community/messages/{id}":                    ownerOrModerator,
	"DELETE /api/community/messages/{id}":                   ownerOrModerator,
	"PUT /api/community/messages/{id}/reactions/{emoji}":    anyone,
	"DELETE /api/community/messages/{id}/reactions/{emoji}": anyone,
	"GET /api/messages/threads/{id}/messages":               ownerHidden,
	"POST /api/messages/threads/{id}/messages":              ownerHidden,
	"PUT /api/shouts/{id}/reactions/{emoji}":                anyone,
	"DELETE /api/shouts/{id}/reactions/{emoji}":             anyone,
	"GET /api/ai/requests/{id}":                             ownerOrAdminHidden,
	"PATCH /api/mixes/{id}":                                 ownerOrModerator,
	"DELETE /api/mixes/{id}":                                ownerOrModerator,
	"PUT /api/mixes/{id}/like":                              anyone,
	"DELETE /api/mixes/{id}/like":                           anyone,
	"POST /api/courses/{id}/enroll":                         anyone,
	"POST /api/courses/{id}/lessons/{lessonId}/complete":    anyone,
	"PATCH /api/events/{id}":                                ownerOrModerator,
	"DELETE /api/events/{id}":                               ownerOrModerator,
	"POST /api/events/{id}/rsvp":                            anyone,
	"GET /api/events/{id}/attendees":                        ownerOrModerator,
	"POST /api/events/{id}/attended":                        ownerOnly,
	"POST /api/collectibles/{id}/purchase":                  anyone,
}
