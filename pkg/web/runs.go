package web

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func (u *UI) runRoutes(r router) {
	r.get("/runs", u.runList)
	r.get("/runs/:id", u.runDetail)
	r.post("/runs/:id/cancel", u.runCancel)
	r.get("/runs/:id/artifacts/:aid", u.runArtifact)
	r.get("/launch", u.launchForm)
	r.post("/launch", u.launchSubmit)
}

// runsPerPage is the length of a page of /runs.
const runsPerPage = 50

// runsPage is /runs: one page of runs matching the filter form.
type runsPage struct {
	Runs       []store.Run
	Statuses   []domain.RunStatus
	Tasks      []store.TaskDefinition
	Directives []store.Directive
	Status     string
	Task       string
	Directive  int64
	Newer      string // URL of the newer page; "" on the first
	Older      string // URL of the older page; "" on the last
	First      string // URL of the newest page, when this is another one
	Filtered   bool
}

// runList is /runs?status=&task=&directive=&before=|after=.
func (u *UI) runList(c echo.Context) error {
	ctx := c.Request().Context()
	q, err := runQueryFrom(c.QueryParams())
	if err != nil {
		return err
	}
	p := runsPage{Statuses: domain.RunStatuses, Status: string(q.Status), Task: q.Task,
		Filtered: q.Status != "" || q.Task != "" || q.DirectiveID != nil}
	if p.Tasks, err = listAll(c.Request().Context(), byName(store.MaxPageSize), u.st.ListTasks); err != nil {
		return err
	}
	if q.Task != "" && !runHasTask(p.Tasks, q.Task) {
		return badRequest("There is no task " + strconv.Quote(q.Task) + ".")
	}
	if q.DirectiveID != nil {
		p.Directive = *q.DirectiveID
		if _, err := u.st.GetDirective(ctx, *q.DirectiveID); err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return badRequest("There is no directive " + strconv.FormatInt(*q.DirectiveID, 10) + ".")
			}
			return err
		}
	}
	if p.Directives, err = listAll(c.Request().Context(), byName(runDirectiveChoices), u.st.ListDirectives); err != nil {
		return err
	}
	page, err := u.st.ListRunPage(ctx, q)
	if err != nil {
		return err
	}
	p.Runs = page.Runs
	if q.Before > 0 || q.After > 0 {
		p.First = runPageURL(q, "", 0)
	}
	if len(p.Runs) > 0 {
		newest, oldest := p.Runs[0].ID, p.Runs[len(p.Runs)-1].ID
		if (q.After > 0 && page.More) || q.Before > 0 {
			p.Newer = runPageURL(q, "after", newest)
		}
		if (q.After == 0 && page.More) || q.After > 0 {
			p.Older = runPageURL(q, "before", oldest)
		}
	}
	return u.render(c, "runs", "Runs", p)
}

// runQueryFrom reads and checks the list's query parameters; a bad value is
// a 400 page that says which.
func runQueryFrom(v url.Values) (store.RunQuery, error) {
	q := store.RunQuery{Limit: runsPerPage, Task: v.Get("task")}
	if s := v.Get("status"); s != "" {
		q.Status = domain.RunStatus(s)
		if !q.Status.Valid() {
			return q, badRequest("Unknown status " + strconv.Quote(s) + ".")
		}
	}
	var err error
	num := func(name string) int64 {
		s := v.Get(name)
		if s == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n <= 0 {
			err = badRequest("The " + name + " filter must be a positive number, not " + strconv.Quote(s) + ".")
		}
		return n
	}
	if id := num("directive"); id > 0 {
		q.DirectiveID = &id
	}
	q.Before, q.After = num("before"), num("after")
	return q, err
}

// runPageURL links the page of runs before or after id (dir "": the
// newest), keeping the filter.
func runPageURL(q store.RunQuery, dir string, id int64) string {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.Task != "" {
		v.Set("task", q.Task)
	}
	if q.DirectiveID != nil {
		v.Set("directive", strconv.FormatInt(*q.DirectiveID, 10))
	}
	if dir != "" {
		v.Set(dir, strconv.FormatInt(id, 10))
	}
	if len(v) == 0 {
		return "/runs"
	}
	return "/runs?" + v.Encode()
}

func runHasTask(defs []store.TaskDefinition, key string) bool {
	for _, d := range defs {
		if d.Key == key {
			return true
		}
	}
	return false
}

// runDirectiveChoices bounds the directives the forms offer.
const runDirectiveChoices = 500
