module github.com/pasteur-dev/pasteur

go 1.26.8
