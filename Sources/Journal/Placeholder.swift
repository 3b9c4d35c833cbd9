// Journal module
