import { crashMatrix } from './matrix.ts';

crashMatrix(0);
