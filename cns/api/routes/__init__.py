"""One router per resource; routes parse, authorise, call a service and translate errors."""
