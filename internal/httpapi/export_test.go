package httpapi

import "strings"

// RouteAccess is one route of the table as the matrix test sees it.
type RouteAccess struct {
	Method, Pattern, Access string
	Owner                   string // ownership from owned; "" when undeclared
}

// Routes returns the route table's access declarations.
func Routes() []RouteAccess {
	var out []RouteAccess
	for _, r := range (&Server{}).routeTable() {
		out = append(out, RouteAccess{r.method, r.pattern, r.access.String(), string(owned[r.method+" "+r.pattern])})
	}
	return out
}

// ActsOnOne reports whether a route names one resource in its path.
func (r RouteAccess) ActsOnOne() bool { return strings.Contains(r.Pattern, "{") }

// CPUTime is cpuTime (compress_bench_test.go) for the route benchmarks.
var CPUTime = cpuTime
