package gamification

import "testing"

func TestLevels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		xp   int64
		want int
	}{{-3, 1}, {0, 1}, {4, 1}, {5, 2}, {19, 2}, {20, 3}, {514, 5}, {515, 6}, {33014, 8}, {33015, 9}, {1 << 40, 9}}
	for _, c := range cases {
		if got := DefaultLevels.For(c.xp); got != c.want {
			t.Errorf("For(%d) = %d, want %d", c.xp, got, c.want)
		}
	}
	if n, ok := DefaultLevels.Next(1); !ok || n != 5 {
		t.Errorf("Next(1) = %d, %v; want 5, true", n, ok)
	}
	if _, ok := DefaultLevels.Next(9); ok {
		t.Error("Next(9) at the top level reported a next level")
	}
}

func TestParseLevels(t *testing.T) {
	t.Parallel()
	ls, err := ParseLevels("0, 10,100")
	if err != nil || len(ls) != 3 || ls[2] != 100 {
		t.Fatalf("ParseLevels = %v, %v", ls, err)
	}
	for _, bad := range []string{"", "5,10", "0,10,10", "0,x", "0,20,10"} {
		if _, err := ParseLevels(bad); err == nil {
			t.Errorf("ParseLevels(%q) accepted", bad)
		}
	}
}

func TestAwardValidate(t *testing.T) {
	t.Parallel()
	ok := Award{UserID: 1, Amount: 10, Reason: ReasonLesson, Ref: "lesson:1"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []Award{{Amount: 1, Reason: ReasonLesson, Ref: "x"}, {UserID: 1, Ref: "x"}, {UserID: 1, Reason: ReasonLesson}} {
		if a.Validate() == nil {
			t.Errorf("%+v accepted", a)
		}
	}
}
