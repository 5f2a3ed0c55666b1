package web

func (u *UI) scheduleRoutes(r router) {
	r.get("/schedules", todo)
}
