"""Forms of the users app, one module per domain: sign_in, two_factor,
passwords, staff and api_keys (the administration pages), operations (the
audit log filter, the business date), and errors (a service's refusal shown
on a form). Forms parse and check input; writes go through users.services."""
