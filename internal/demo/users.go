package demo

import (
	"context"
	"strings"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// people are the demo community: username, display name, bio, role.
var people = []struct{ user, name, bio string }{
	{"demo_admin", "Morgan (admin)", "Runs this Plaza. Ask me anything about the community rules."},
	{"demo_user", "Demo User", "Trying Plaza out. Into deep house and learning to mix."},
	{"dj_nova", "DJ Nova", "Deep house and melodic techno, live every Friday."},
	{"dj_kairo", "Kairo", "Afro house selector. Mixes from the rooftop."},
	{"dj_lumen", "Lumen", "Ambient and downtempo for long evenings."},
	{"ana_b", "Ana Brooks", "Producer in training, Ableton user."},
	{"ben_k", "Ben Kowalski", "Vinyl collector, mostly 90s house."},
	{"chloe_m", "Chloe Martin", "Bass music and drum & bass."},
	{"dev_p", "Dev Patel", "Weekend DJ, weekday developer."},
	{"emma_l", "Emma Lind", "Techno, always techno."},
	{"felix_r", "Felix Rossi", "Learning to beatmatch by ear."},
	{"gina_o", "Gina Okafor", "Afrobeats and amapiano."},
	{"hugo_s", "Hugo Santos", "Sound engineer; ask me about mastering."},
	{"iris_w", "Iris Wong", "Trading FX by day, mixing by night."},
	{"jamal_t", "Jamal Taylor", "Hip hop heads unite."},
	{"kate_n", "Kate Novak", "Radio host, community events."},
	{"leo_d", "Leo Dubois", "French touch forever."},
	{"maya_r", "Maya Reyes", "Disco edits and rollerskates."},
	{"nils_e", "Nils Eriksen", "Minimal and micro house."},
	{"olivia_h", "Olivia Hart", "Just here for the courses."},
	{"pablo_g", "Pablo Garcia", "Latin house and percussion."},
	{"quinn_a", "Quinn Adams", "Lighting designer for clubs."},
	{"rosa_v", "Rosa Vidal", "Trance never died."},
	{"sam_y", "Sam Young", "Student, first controller last month."},
	{"tara_f", "Tara Fox", "Garage and breaks."},
	{"umar_z", "Umar Zaidi", "Organiser of the monthly meetup."},
	{"vera_c", "Vera Costa", "Photographer at most of the events."},
	{"will_j", "Will Jones", "Drum & bass MC."},
}

func seedUsers(ctx context.Context, e *Env) error {
	hash, err := account.NewHasher(account.DefaultHashParams, 0).Hash(ctx, Password)
	if err != nil {
		return err
	}
	store := sqlstore.NewAccounts(e.DB)
	for i, p := range people {
		role := account.RoleUser
		switch {
		case i == 0:
			role = account.RoleAdmin
		case strings.HasPrefix(p.user, "dj_"):
			role = account.RoleCreator
		}
		name := p.user + e.Suffix
		created := e.Now.AddDate(0, 0, -60+i)
		u, err := store.CreateUser(ctx, account.NewUser{Email: name + "@demo.plaza.test", Username: name,
			PasswordHash: hash, Role: role, Verified: true}, nil, created)
		if err != nil {
			return err
		}
		if _, err := e.DB.Write().Exec(ctx, `UPDATE users SET display_name = ?, bio = ? WHERE id = ?`, p.name, p.bio, u.ID); err != nil {
			return err
		}
		u.DisplayName, u.Bio = p.name, p.bio
		e.Users = append(e.Users, u)
		switch {
		case i == 0:
			e.Admin = u
		case i == 1:
			e.Demo = u
		case role == account.RoleCreator:
			e.Creators = append(e.Creators, u)
		}
	}
	e.Progress("%d people (1 admin, %d creators), password %q", len(e.Users), len(e.Creators), Password)
	return nil
}
