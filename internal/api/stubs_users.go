package api

// Owned by the users work: /users, /user, /extension_numbers, /groups, /roles.

func (s *Server) registerUsers()            {}
func (s *Server) registerUser()             {}
func (s *Server) registerExtensionNumbers() {}
func (s *Server) registerGroups()           {}
func (s *Server) registerRoles()            {}
