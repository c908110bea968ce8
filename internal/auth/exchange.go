package auth

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
)

// State is the replicated auth state as snapshots carry it: users and roles
// in name order, passwords as bcrypt hashes.
type State struct {
	Enabled  bool
	Revision uint64
	Users    []*authpb.User
	Roles    []*authpb.Role
}

// Export reads the auth state that r holds.
func Export(r pebble.Reader) (*State, error) {
	enabled, revision, users, roles, err := load(r)
	if err != nil {
		return nil, err
	}
	st := &State{Enabled: enabled, Revision: revision}
	for _, name := range sortedKeys(users) {
		st.Users = append(st.Users, users[name])
	}
	for _, name := range sortedKeys(roles) {
		st.Roles = append(st.Roles, roles[name])
	}
	return st, nil
}

// Import writes st into batch b of an engine being restored, which holds no
// auth state yet. Users and roles are stored as they come: a snapshot holds
// them as the apply path left them.
func Import(b *pebble.Batch, st *State) error {
	v := []byte{0}
	if st.Enabled {
		v[0] = 1
	}
	if err := b.Set(keyEnabled, v, nil); err != nil {
		return err
	}
	var rev [8]byte
	binary.BigEndian.PutUint64(rev[:], max(st.Revision, 1))
	if err := b.Set(keyRevision, rev[:], nil); err != nil {
		return err
	}
	for _, u := range st.Users {
		if err := b.Set(userKey(string(u.Name)), marshal(u), nil); err != nil {
			return err
		}
	}
	for _, r := range st.Roles {
		if err := b.Set(roleKey(string(r.Name)), marshal(r), nil); err != nil {
			return err
		}
	}
	return nil
}
