package web

func (u *UI) runRoutes(r router) {
	r.get("/runs", todo)
	r.get("/runs/:id", todo)
	r.get("/launch", todo)
}
