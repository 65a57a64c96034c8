package api

// Owned by the tenants work: /info, /admin/*, /tenants, /tenant, /dealers.

func (s *Server) registerInfo()    {}
func (s *Server) registerAdmin()   {}
func (s *Server) registerTenants() {}
func (s *Server) registerTenant()  {}
func (s *Server) registerDealers() {}
