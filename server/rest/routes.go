package rest

import "slices"

// routes lists every endpoint, by area.
func (a *API) routes() []route {
	return slices.Concat(a.userRoutes(), a.groupRoutes(), a.messageRoutes(), a.resourceRoutes(), a.socialRoutes(), a.wordRoutes(), a.retractRoutes(), a.reportRoutes())
}
