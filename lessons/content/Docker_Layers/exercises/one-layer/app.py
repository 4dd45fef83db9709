print("Quote of the day: containers are processes.")
