package web

func (u *UI) hostRoutes(r router) {
	r.get("/hosts", todo)
}
